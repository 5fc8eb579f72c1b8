package faultfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// segmentBytes is where a benchmark file starts over, as Kafka rolls a
// segment, so that the cache stays bounded.
const segmentBytes = 64 << 20

// BenchmarkWrite writes through the FUSE mount and to the plain backing
// directory, side by side: sequential 1 MiB writes and Kafka-like 16 KiB
// appends, with an fsync every N writes (never when N is 0).
//
//	go test ./faultfs -run '^$' -bench Write -benchtime 2s
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1 << 20, 16 << 10} {
		for _, every := range []int{1, 16, 0} {
			for _, target := range []string{"plain", "fuse"} {
				name := fmt.Sprintf("%dKiB/fsync-every-%d/%s", size>>10, every, target)
				if every == 0 {
					name = fmt.Sprintf("%dKiB/no-fsync/%s", size>>10, target)
				}
				b.Run(name, func(b *testing.B) {
					dir := benchDir(b, target)
					benchWrites(b, filepath.Join(dir, "segment"), size, every)
				})
			}
		}
	}
}

// benchDir returns a directory to write to: a fresh FUSE mount or a plain
// directory on the same disk.
func benchDir(b *testing.B, target string) string {
	b.Helper()
	dir := b.TempDir()
	if target == "plain" {
		return dir
	}
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	for _, d := range []string{backing, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	f, err := Mount(backing, mnt, Options{})
	if err != nil {
		b.Skipf("mount: %v", err)
	}
	b.Cleanup(func() {
		if err := f.Unmount(); err != nil {
			b.Error(err)
		}
	})
	return mnt
}

func benchWrites(b *testing.B, path string, size, every int) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	written := 0
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if every > 0 && (i+1)%every == 0 {
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		if written += size; written >= segmentBytes {
			if err := f.Truncate(0); err != nil {
				b.Fatal(err)
			}
			written = 0
		}
	}
}
