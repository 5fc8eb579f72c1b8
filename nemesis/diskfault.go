package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kchaos/kchaos/faultfs"
)

// Disk faults (disk-full, disk-error, slow-disk) share their start and heal: inject a faultfs
// fault into the log dirs of the brokers a target names; at the stop, clear it and restart any
// broker that stopped on it (Kafka halts a broker whose only log dir fails).

// DiskValue is the value of disk-full, disk-error and slow-disk lines: the brokers hit, how they
// were chosen, and the fault injected into their log dirs.
type DiskValue struct {
	Nodes  []string      `json:"nodes"`
	Target Target        `json:"target,omitempty"`
	Key    string        `json:"key,omitempty"`
	Fault  faultfs.Fault `json:"fault"`
	// Achieved, on stop lines only, is what the fault did to the cluster.
	Achieved *Achieved `json:"achieved,omitempty"`
}

// applyDisk injects disk into the log dirs of the brokers f names.
func applyDisk(ctx context.Context, n *Nemesis, f Fault, disk faultfs.Fault) (*fault, any, error) {
	nodes, err := n.brokers(f.Nodes)
	if err != nil {
		return nil, nil, err
	}
	fss, err := faultFSOf(nodes)
	if err != nil {
		return nil, nil, err
	}
	value := DiskValue{Nodes: names(nodes), Target: f.Target, Key: f.Key, Fault: disk}
	flt := &fault{
		desc: fmt.Sprintf("%s %s", f.Kind, strings.Join(value.Nodes, ",")),
		stopValue: func(a *Achieved) any {
			v := value
			v.Achieved = a
			return v
		},
		undo: []func(context.Context) error{func(ctx context.Context) error {
			for _, fs := range fss {
				fs.Clear(disk.Kind)
			}
			return n.restartNodes(ctx, nodes)
		}},
	}
	var errs []error
	for i, fs := range fss {
		if err := fs.Inject(disk); err != nil {
			errs = append(errs, fmt.Errorf("nemesis: inject %s into %s: %w", disk.Kind, nodes[i].Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		if uerr := n.undo(ctx, flt); uerr != nil {
			return flt, value, errors.Join(err, uerr)
		}
		return nil, value, err
	}
	return flt, value, nil
}

// diskFailpoint is a disk fault of one kind: its faultfs fault, injected as is.
type diskFailpoint struct {
	kind  Kind
	fault faultfs.Fault
}

func (d diskFailpoint) Kind() Kind                    { return d.kind }
func (d diskFailpoint) Available(c ClusterInfo) error { return needFaultFS(c, 1) }

// Need is zero: a disk fault acts from its first write, and what follows (a broker halting on
// EIO, a follower slowed out of the ISR) takes as long as Kafka takes.
func (d diskFailpoint) Need(Config) Need                         { return Need{} }
func (d diskFailpoint) healRank() int                            { return healProcesses }
func (d diskFailpoint) draw(s Step, t Target, sh Shape) Step     { return drawOneNode(s, t, sh) }
func (d diskFailpoint) resolve(step Step, v view) (Fault, error) { return resolveTargets(step, v) }
func (d diskFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	return applyDisk(ctx, n, f, d.fault)
}
