package faultfs

import (
	"fmt"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// FaultKind names a disk fault.
type FaultKind string

const (
	// DiskFull fails writes, creations and size increases with ENOSPC.
	DiskFull FaultKind = "disk-full"
	// DiskError fails reads, or writes (with truncates, creations, removals,
	// renames and fsyncs), or both, with EIO, optionally only under a path
	// prefix.
	DiskError FaultKind = "disk-error"
	// SlowDisk adds latency to every write and fsync.
	SlowDisk FaultKind = "slow-disk"
)

// Ops selects the operations a DiskError fault fails.
type Ops uint8

const (
	// Reads are read calls.
	Reads Ops = 1 << iota
	// Writes are write, truncate, create and fsync calls.
	Writes
	// ReadsAndWrites is both; it is what a zero Ops means.
	ReadsAndWrites = Reads | Writes
)

// String names the operations: "reads", "writes" or "reads+writes".
func (o Ops) String() string {
	switch o {
	case Reads:
		return "reads"
	case Writes:
		return "writes"
	case ReadsAndWrites:
		return "reads+writes"
	}
	return fmt.Sprintf("Ops(%#x)", uint8(o))
}

// MarshalText writes the name String gives.
func (o Ops) MarshalText() ([]byte, error) {
	if o&^ReadsAndWrites != 0 {
		return nil, fmt.Errorf("faultfs: unknown ops %#x", uint8(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText reads a name String gives.
func (o *Ops) UnmarshalText(b []byte) error {
	for _, v := range []Ops{Reads, Writes, ReadsAndWrites} {
		if string(b) == v.String() {
			*o = v
			return nil
		}
	}
	return fmt.Errorf("faultfs: unknown ops %q", b)
}

// Fault is one disk fault to inject. At most one fault of each kind is
// active; injecting a kind again replaces it.
type Fault struct {
	// Kind is which fault.
	Kind FaultKind `json:"kind"`
	// Ops is what DiskError fails; zero means reads and writes.
	Ops Ops `json:"ops,omitempty"`
	// Prefix limits DiskError to a path and what is under it, relative to
	// the mount point ("kafka/topic-0"); empty means everywhere.
	Prefix string `json:"prefix,omitempty"`
	// Latency is what SlowDisk adds to each write and fsync.
	Latency time.Duration `json:"latency,omitempty"`
}

// validate checks f and returns it normalized.
func (f Fault) validate() (Fault, error) {
	switch f.Kind {
	case DiskFull:
	case DiskError:
		if f.Ops == 0 {
			f.Ops = ReadsAndWrites
		}
		if f.Ops&^ReadsAndWrites != 0 {
			return f, fmt.Errorf("faultfs: disk-error: unknown ops %#x", uint8(f.Ops))
		}
		if f.Prefix != "" {
			f.Prefix = strings.TrimPrefix(path.Clean("/"+f.Prefix), "/")
		}
	case SlowDisk:
		if f.Latency <= 0 {
			return f, fmt.Errorf("faultfs: slow-disk needs a positive latency, got %v", f.Latency)
		}
	default:
		return f, fmt.Errorf("faultfs: unknown fault kind %q", f.Kind)
	}
	return f, nil
}

// faultSet is an immutable set of active faults, swapped atomically.
type faultSet map[FaultKind]Fault

// faults holds the active faults for the hot paths.
type faults struct {
	set atomic.Pointer[faultSet]
}

func (fs *faults) load() faultSet {
	if p := fs.set.Load(); p != nil {
		return *p
	}
	return nil
}

func (fs *faults) update(change func(faultSet)) {
	next := faultSet{}
	for k, v := range fs.load() {
		next[k] = v
	}
	change(next)
	fs.set.Store(&next)
}

// check returns the error an operation of kind op on rel (which gives a path
// relative to the root) meets, after sleeping for any slow-disk latency when
// slow is set. grows tells whether the operation needs free space.
func (fs *faults) check(op Ops, rel func() string, grows, slow bool) syscall.Errno {
	set := fs.load()
	if len(set) == 0 {
		return 0
	}
	if f, ok := set[SlowDisk]; ok && slow {
		time.Sleep(f.Latency)
	}
	if f, ok := set[DiskError]; ok && f.Ops&op != 0 && (f.Prefix == "" || underPrefix(rel(), f.Prefix)) {
		return syscall.EIO
	}
	if _, ok := set[DiskFull]; ok && grows {
		return syscall.ENOSPC
	}
	return 0
}

// underPrefix reports whether rel is prefix or lies under it.
func underPrefix(rel, prefix string) bool {
	return prefix == "" || rel == prefix || strings.HasPrefix(rel, prefix+"/")
}

// Inject activates a fault, replacing any active fault of its kind.
func (f *FS) Inject(fault Fault) error {
	fault, err := fault.validate()
	if err != nil {
		return err
	}
	f.faults.update(func(s faultSet) { s[fault.Kind] = fault })
	return nil
}

// Clear deactivates the fault of kind k, if active.
func (f *FS) Clear(k FaultKind) {
	f.faults.update(func(s faultSet) { delete(s, k) })
}

// ClearAll deactivates every fault.
func (f *FS) ClearAll() {
	f.faults.update(func(s faultSet) { clear(s) })
}

// Faults returns the active faults.
func (f *FS) Faults() []Fault {
	var out []Fault
	for _, k := range []FaultKind{DiskFull, DiskError, SlowDisk} {
		if fault, ok := f.faults.load()[k]; ok {
			out = append(out, fault)
		}
	}
	return out
}
