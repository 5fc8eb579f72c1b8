package nemesis

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is a kind of fault, as named in the --nemesis flag. Each kind is declared beside its
// Failpoint (kill.go, pause.go, ...).
type Kind string

// AllKinds returns every registered fault kind, in the order `--nemesis all` runs them.
func AllKinds() []Kind {
	kinds := make([]Kind, len(failpoints))
	for i, fp := range failpoints {
		kinds[i] = fp.Kind()
	}
	return kinds
}

// Valid reports whether k is a registered kind.
func (k Kind) Valid() bool {
	_, ok := FailpointOf(k)
	return ok
}

// ParseKinds parses the value of the --nemesis flag: a comma-separated list of kinds, "all" for
// every kind, or "none" (or an empty string) for no fault at all, which returns an empty list.
// Spaces around names are ignored and a repeated name counts once. An unknown name is an error
// that names it and lists the valid ones.
func ParseKinds(s string) ([]Kind, error) {
	kinds := []Kind{}
	for _, field := range strings.Split(s, ",") {
		name := strings.TrimSpace(field)
		switch name {
		case "", "none":
			continue
		case "all":
			for _, k := range AllKinds() {
				if !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
			continue
		}
		k := Kind(name)
		if !k.Valid() {
			return nil, fmt.Errorf("nemesis: unknown fault %q; valid: %s, all, none", name, kindList())
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, nil
}

func kindList() string {
	names := make([]string, 0, len(AllKinds()))
	for _, k := range AllKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// Target says which brokers a fault hits. Targets are resolved against the cluster when the fault
// starts: the leader and the controller are those ZooKeeper names at that moment.
type Target string

// The targets.
const (
	// TargetOne is one broker chosen at random.
	TargetOne Target = "one"
	// TargetMinority is a random minority: ⌊(n−1)/2⌋ of n brokers, at least one.
	TargetMinority Target = "minority"
	// TargetMajority is a random majority: ⌊n/2⌋+1 of n brokers.
	TargetMajority Target = "majority"
	// TargetAll is every broker.
	TargetAll Target = "all"
	// TargetPrimaries is the leader of a partition of Config.Topic.
	TargetPrimaries Target = "primaries"
	// TargetController is the active controller: the broker ZooKeeper names in ZooKeeper mode,
	// the KRaft quorum's leader in KRaft mode (a combined node n1.., or a dedicated controller
	// c1..).
	TargetController Target = "controller"
	// TargetControllersMinority is a random minority of the KRaft controller voters: ⌊(n−1)/2⌋ of
	// n, at least one. The quorum keeps a majority. KRaft mode only.
	TargetControllersMinority Target = "controllers-minority"
	// TargetControllersMajority is a random majority of the KRaft controller voters: ⌊n/2⌋+1 of
	// n. The quorum loses its majority: no metadata change commits until it is back. KRaft mode
	// only.
	TargetControllersMajority Target = "controllers-majority"
)

// AllTargets returns every target.
func AllTargets() []Target {
	return append(DefaultTargets(), TargetControllersMinority, TargetControllersMajority)
}

// DefaultTargets returns the targets a schedule draws from when Config.Targets is empty: every
// target but the controller quorum's minority and majority, which are asked for by name (a
// quorum without its majority stalls every fault drawn after it, and a default that changed
// with the metadata mode would change what a seed draws).
func DefaultTargets() []Target {
	return []Target{TargetOne, TargetMinority, TargetMajority, TargetAll, TargetPrimaries, TargetController}
}

// quorumTarget reports whether t picks among the KRaft controller voters.
func (t Target) quorumTarget() bool {
	return t == TargetControllersMinority || t == TargetControllersMajority
}

// Shape is the shape of a network partition, after Jepsen's partitioners.
type Shape string

// The partition shapes. Each is built over the brokers; see Grudge for what a grudge means and
// Traffic for what happens to ZooKeeper and clients.
const (
	// ShapeIsolate cuts the target brokers off from the others: one node isolated (TargetOne,
	// TargetPrimaries, TargetController), majority/minority (TargetMinority, TargetMajority), or
	// every broker alone (TargetAll).
	ShapeIsolate Shape = "isolate"
	// ShapeHalves cuts the brokers into random halves, the smaller first.
	ShapeHalves Shape = "halves"
	// ShapeMajoritiesRing lets every broker see a majority, but no two the same majority.
	ShapeMajoritiesRing Shape = "majorities-ring"
	// ShapeBridge cuts the brokers into halves except one bridge node that both halves see.
	ShapeBridge Shape = "bridge"
	// ShapeOneWay makes the other brokers drop what the target brokers send, and only that.
	ShapeOneWay Shape = "one-way"
)

// AllShapes returns every partition shape.
func AllShapes() []Shape {
	return []Shape{ShapeIsolate, ShapeHalves, ShapeMajoritiesRing, ShapeBridge, ShapeOneWay}
}

// Traffic says which traffic a partition cuts.
type Traffic string

// The traffic scopes.
const (
	// TrafficBrokers cuts broker-to-broker traffic only: ZooKeeper and clients still reach every broker.
	TrafficBrokers Traffic = "brokers"
	// TrafficAll also cuts ZooKeeper and clients, which stand with the majority: a broker that hears
	// fewer than a majority of the brokers (itself included) no longer hears ZooKeeper or clients,
	// and one heard by fewer than a majority is no longer heard by them.
	TrafficAll Traffic = "all"
)
