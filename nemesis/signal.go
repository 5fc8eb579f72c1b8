package nemesis

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// HealOnSignal closes and heals n when the process receives one of sigs (SIGINT and SIGTERM when
// none are given): Run stops starting faults and returns, every active fault is healed (see
// Close), and then done is called with the heal's error, typically to close the cluster and exit.
// done runs at most once, on the goroutine that received the signal. Until stop is called, the
// signals are the handler's: a second SIGINT does not kill the process in the middle of healing.
// The returned stop function stops listening; it is safe to call after the signal came.
//
// A program that drives the nemesis with Run alone can instead pass Run a context from
// signal.NotifyContext: Run heals before it returns. HealOnSignal is for programs that start
// faults themselves, or must heal before anything else happens.
func HealOnSignal(n *Nemesis, done func(error), sigs ...os.Signal) (stop func()) {
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	quit := make(chan struct{})
	go func() {
		select {
		case <-ch:
			err := n.Close(context.Background())
			if done != nil {
				done(err)
			}
		case <-quit:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(quit)
		})
	}
}
