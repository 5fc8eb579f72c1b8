package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/faultfs"
	"github.com/kchaos/kchaos/history"
)

// KindCrash SIGKILLs a broker and drops what its filesystem never made durable.
const KindCrash Kind = "crash"

// CrashFailpoint SIGKILLs one broker (TargetOne, or the single broker TargetPrimaries or
// TargetController names; other targets become TargetOne) and crashes its faultfs: the data
// Kafka wrote but never fsynced is gone, as after a power loss of that machine. Its start line
// records what each broker dropped; its stop restarts the broker on what was durable, as kill
// does. It needs the cluster's log dirs on faultfs (ClusterSpec.FaultFS).
var CrashFailpoint Failpoint = crashFailpoint{}

type crashFailpoint struct{}

func (crashFailpoint) Kind() Kind                               { return KindCrash }
func (crashFailpoint) Available(c ClusterInfo) error            { return needFaultFS(c, 1) }
func (crashFailpoint) Need(cfg Config) Need                     { return sessionNeed(cfg) }
func (crashFailpoint) healRank() int                            { return healProcesses }
func (crashFailpoint) draw(s Step, t Target, sh Shape) Step     { return drawOneNode(s, t, sh) }
func (crashFailpoint) resolve(step Step, v view) (Fault, error) { return resolveTargets(step, v) }

func (crashFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	return applyCrash(ctx, n, f)
}

// CrashValue is the value of crash and power-loss lines: the brokers hit, how they were chosen,
// and what each one's filesystem dropped.
type CrashValue struct {
	Nodes  []string `json:"nodes"`
	Target Target   `json:"target,omitempty"`
	// Key is the partition whose replicas (power-loss) or leader (crash) were chosen.
	Key string `json:"key,omitempty"`
	// Dropped is, per broker name, what its crash lost.
	Dropped map[string]Dropped `json:"dropped"`
	// Achieved, on stop lines only, is what the fault did to the cluster.
	Achieved *Achieved `json:"achieved,omitempty"`
}

// Dropped is what the crash of one broker's filesystem lost; history owns the line's type.
type Dropped = history.Dropped

// droppedOf summarises a faultfs loss for a history line.
func droppedOf(l faultfs.Loss, err error) Dropped {
	d := Dropped{Bytes: l.Bytes(), Files: len(l.Files), Ops: len(l.Ops)}
	for _, f := range l.Files {
		d.Paths = append(d.Paths, f.Path)
	}
	if err != nil {
		d.Error = err.Error()
	}
	return d
}

// drawOneNode is the draw of faults that hit one broker: the one TargetPrimaries or
// TargetController names, or TargetOne for the targets that name several.
func drawOneNode(s Step, t Target, _ Shape) Step {
	if t != TargetPrimaries && t != TargetController {
		t = TargetOne
	}
	s.Target = t
	return s
}

// needFaultFS is the Available of faults that act on the brokers' faultfs.
func needFaultFS(c ClusterInfo, brokers int) error {
	if err := needBrokers(c, brokers); err != nil {
		return err
	}
	if !c.FaultFS {
		return errors.New("needs the brokers' log dirs on faultfs (--faultfs, ClusterSpec.FaultFS), and FUSE on the machine")
	}
	return nil
}

// faultFSOf returns each node's filesystem, or an error naming a node without one.
func faultFSOf(nodes []*broker.Node) ([]*faultfs.FS, error) {
	out := make([]*faultfs.FS, len(nodes))
	for i, node := range nodes {
		if out[i] = node.FaultFS(); out[i] == nil {
			return nil, fmt.Errorf("nemesis: %s has no faultfs log dir (start the cluster with --faultfs)", node.Name)
		}
	}
	return out, nil
}

// applyCrash kills the brokers f names, then crashes their filesystems; undo restarts them on
// what was durable. Every broker is killed before any filesystem crashes, so that no broker sees
// another's crash, as in a power loss of them all at once.
func applyCrash(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	nodes, err := n.brokers(f.Nodes)
	if err != nil {
		return nil, nil, err
	}
	fss, err := faultFSOf(nodes)
	if err != nil {
		return nil, nil, err
	}
	value := CrashValue{Nodes: names(nodes), Target: f.Target, Key: f.Key, Dropped: map[string]Dropped{}}
	flt := &fault{
		desc: fmt.Sprintf("%s %s", f.Kind, strings.Join(value.Nodes, ",")),
		undo: []func(context.Context) error{func(ctx context.Context) error { return n.restartNodes(ctx, nodes) }},
	}
	if err := killNodes(ctx, nodes); err != nil {
		if uerr := n.undo(ctx, flt); uerr != nil {
			return flt, value, errors.Join(err, uerr)
		}
		return nil, value, err
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			loss, err := fss[i].Crash()
			mu.Lock()
			defer mu.Unlock()
			value.Dropped[node.Name] = droppedOf(loss, err)
			if err != nil {
				errs = append(errs, fmt.Errorf("nemesis: crash the log dir of %s: %w", node.Name, err))
			}
		})
	}
	wg.Wait()
	flt.stopValue = func(a *Achieved) any {
		v := value
		v.Achieved = a
		return v
	}
	// A crash that could not undo everything still lost what it says, and the brokers are down:
	// the fault stays in place for its undo to restart them.
	return flt, value, errors.Join(errs...)
}
