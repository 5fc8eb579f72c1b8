package harness

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/kchaos/kchaos/history"
)

// Recorder appends operations to history.jsonl as the run goes. It gives each line its Index and
// its Time (nanoseconds since the test started, from the monotonic clock) under one lock, so the
// file's order is the order of times. Lines are buffered, written at least every second by a
// background loop, and synced to disk by Sync at each phase end. Only whole lines are ever written,
// each batch in one write call, so a run killed at any moment leaves a checkable prefix.
type Recorder struct {
	start time.Time

	mu     sync.Mutex
	f      *os.File
	buf    []byte // whole lines not yet written
	next   int64
	err    error // the first write error; later appends are dropped
	counts Counts

	stopFlush chan struct{}
	flushDone chan struct{}
}

// Counts are the completions recorded so far, for the progress line.
type Counts struct{ OK, Fail, Info int }

// NewRecorder creates path and starts recording; start is the test's time zero.
func NewRecorder(path string, start time.Time) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	r := &Recorder{start: start, f: f, buf: make([]byte, 0, flushAt+4096),
		stopFlush: make(chan struct{}), flushDone: make(chan struct{})}
	go r.flushLoop(time.Second)
	return r, nil
}

func (r *Recorder) flushLoop(every time.Duration) {
	defer close(r.flushDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stopFlush:
			return
		case <-t.C:
			r.mu.Lock()
			r.setErr(r.flush())
			r.mu.Unlock()
		}
	}
}

// flushAt is the buffer size past which Append writes the buffered lines at once.
const flushAt = 64 << 10

// flush writes the buffered lines in one call. The caller holds mu.
func (r *Recorder) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	_, err := r.f.Write(r.buf)
	r.buf = r.buf[:0]
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

func (r *Recorder) setErr(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}

// Append stamps op with the next index and the current time and writes it. It is safe for
// concurrent use. Errors are kept and returned by Err, Sync and Close.
func (r *Recorder) Append(op *history.Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	op.Index = r.next
	op.Time = time.Since(r.start).Nanoseconds()
	r.next++
	r.buf = history.AppendJSON(r.buf, op)
	r.buf = append(r.buf, '\n')
	if len(r.buf) >= flushAt {
		r.setErr(r.flush())
	}
	if op.Process.IsClient() {
		r.count(op)
	}
}

func (r *Recorder) count(op *history.Op) {
	switch op.Type {
	case history.OK:
		r.counts.OK++
	case history.Fail:
		r.counts.Fail++
	case history.Info:
		r.counts.Info++
	}
}

// Counts returns the completions recorded so far.
func (r *Recorder) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// Err returns the first error met while writing.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Sync flushes buffered lines and syncs the file to disk: the end of a phase.
func (r *Recorder) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setErr(r.flush())
	if r.err == nil {
		r.setErr(r.f.Sync())
	}
	return r.err
}

// Close syncs and closes the history. Appends after Close are errors.
func (r *Recorder) Close() error {
	close(r.stopFlush)
	<-r.flushDone
	err := r.Sync()
	r.mu.Lock()
	defer r.mu.Unlock()
	if cerr := r.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close history: %w", cerr)
	}
	r.setErr(fmt.Errorf("history closed"))
	return err
}
