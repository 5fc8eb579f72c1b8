package faultfs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAcknowledgedWritesSurvive appends to several files at once, fsyncing
// now and then, while another goroutine churns the namespace and the
// writeback runs; after a crash every file holds at least what its last
// fsync acknowledged, and nothing but what was written.
func TestAcknowledgedWritesSurvive(t *testing.T) {
	const writers, record = 4, 1000
	f, mnt, _ := mountT(t, Options{WritebackAge: 50 * time.Millisecond})
	dir := filepath.Join(mnt, "d")
	require.NoError(t, os.Mkdir(dir, 0o755))
	syncDir(t, mnt)

	acked := make([]int, writers)
	written := make([]int, writers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		p := filepath.Join(dir, fmt.Sprint("log-", w))
		writeFile(t, p, "", true)
		wg.Go(func() {
			file, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if !assertNoError(t, err) {
				return
			}
			defer file.Close()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := file.Write(recordOf(w, i, record)); !assertNoError(t, err) {
					return
				}
				written[w] += record
				if i%7 == 6 {
					if !assertNoError(t, file.Sync()) {
						return
					}
					acked[w] = written[w]
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tmp, final := filepath.Join(dir, "tmp"), filepath.Join(dir, fmt.Sprint("churn-", i%3))
			writeFile(t, tmp, fmt.Sprint(i), i%2 == 0)
			assertNoError(t, os.Rename(tmp, final))
			if i%5 == 0 {
				assertNoError(t, os.Remove(final))
			}
		}
	})
	syncDir(t, dir)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	require.False(t, t.Failed())

	_, err := f.Crash()
	require.NoError(t, err)
	for w := range writers {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprint("log-", w)))
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(got), acked[w], "log-%d lost acknowledged data", w)
		require.LessOrEqual(t, len(got), written[w], "log-%d grew", w)
		var want []byte
		for i := 0; len(want) < len(got); i++ {
			want = append(want, recordOf(w, i, record)...)
		}
		require.True(t, bytes.Equal(want[:len(got)], got), "log-%d holds bytes nobody wrote", w)
	}
}

// recordOf is record i of writer w, size bytes long.
func recordOf(w, i, size int) []byte {
	b := bytes.Repeat([]byte{byte('a' + w)}, size)
	copy(b, fmt.Sprintf("%d:%d;", w, i))
	return b
}

// assertNoError reports err from any goroutine and says whether it was nil.
func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
