package faultfs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFaultsSeenByAWriter(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		// op runs against the mount, with files "ok" and "sub/f" already durable.
		op   func(mnt string) error
		want syscall.Errno // 0: op succeeds
	}{
		{"disk-full fails a write", Fault{Kind: DiskFull}, func(mnt string) error { return appendErr(filepath.Join(mnt, "ok")) }, syscall.ENOSPC},
		{"disk-full fails a create", Fault{Kind: DiskFull}, func(mnt string) error { return createErr(filepath.Join(mnt, "new")) }, syscall.ENOSPC},
		{"disk-full fails a mkdir", Fault{Kind: DiskFull}, func(mnt string) error { return os.Mkdir(filepath.Join(mnt, "nd"), 0o755) }, syscall.ENOSPC},
		{"disk-full lets reads pass", Fault{Kind: DiskFull}, func(mnt string) error { return readErr(filepath.Join(mnt, "ok")) }, 0},
		{"disk-error fails a read", Fault{Kind: DiskError}, func(mnt string) error { return readErr(filepath.Join(mnt, "ok")) }, syscall.EIO},
		{"disk-error fails a write", Fault{Kind: DiskError}, func(mnt string) error { return appendErr(filepath.Join(mnt, "ok")) }, syscall.EIO},
		{"disk-error on writes lets reads pass", Fault{Kind: DiskError, Ops: Writes}, func(mnt string) error { return readErr(filepath.Join(mnt, "ok")) }, 0},
		{"disk-error on reads lets writes pass", Fault{Kind: DiskError, Ops: Reads}, func(mnt string) error { return appendErr(filepath.Join(mnt, "ok")) }, 0},
		{"disk-error under a prefix fails there", Fault{Kind: DiskError, Prefix: "sub"}, func(mnt string) error { return readErr(filepath.Join(mnt, "sub", "f")) }, syscall.EIO},
		{"disk-error under a prefix spares the rest", Fault{Kind: DiskError, Prefix: "/sub/"}, func(mnt string) error { return readErr(filepath.Join(mnt, "ok")) }, 0},
		{"disk-error fails an fsync", Fault{Kind: DiskError, Ops: Writes}, func(mnt string) error { return syncErr(filepath.Join(mnt, "ok")) }, syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, mnt, _ := mountT(t, Options{})
			writeFile(t, filepath.Join(mnt, "ok"), "data", false)
			require.NoError(t, os.Mkdir(filepath.Join(mnt, "sub"), 0o755))
			writeFile(t, filepath.Join(mnt, "sub", "f"), "data", false)
			require.NoError(t, f.Sync())

			require.NoError(t, f.Inject(tt.fault))
			err := tt.op(mnt)
			if tt.want == 0 {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
			f.Clear(tt.fault.Kind)
			require.Empty(t, f.Faults())
			require.NoError(t, tt.op(mnt), "the fault outlived Clear")
		})
	}
}

func TestInjectRejectsBadFaults(t *testing.T) {
	for _, fault := range []Fault{{Kind: "flood"}, {Kind: SlowDisk}, {Kind: DiskError, Ops: 8}} {
		_, err := fault.validate()
		require.Error(t, err, "%+v", fault)
	}
}

func TestFaultJSON(t *testing.T) {
	in := Fault{Kind: DiskError, Ops: Writes, Prefix: "kafka/t-0"}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"disk-error","ops":"writes","prefix":"kafka/t-0"}`, string(b))
	var out Fault
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)
	require.Error(t, json.Unmarshal([]byte(`{"ops":"sideways"}`), &out))
}

func TestSlowDiskAddsLatency(t *testing.T) {
	const latency = 100 * time.Millisecond
	f, mnt, _ := mountT(t, Options{})
	p := filepath.Join(mnt, "f")
	writeFile(t, p, "x", true)
	require.NoError(t, f.Inject(Fault{Kind: SlowDisk, Latency: latency}))
	require.Equal(t, []Fault{{Kind: SlowDisk, Latency: latency}}, f.Faults())

	file, err := os.OpenFile(p, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer file.Close()
	start := time.Now()
	_, err = file.WriteAt([]byte("y"), 0)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), latency, "write")
	start = time.Now()
	require.NoError(t, file.Sync())
	require.GreaterOrEqual(t, time.Since(start), latency, "fsync")
}

func appendErr(p string) error {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("more")
	return err
}

func createErr(p string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	return f.Close()
}

func readErr(p string) error {
	_, err := os.ReadFile(p)
	return err
}

func syncErr(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
