package campaign

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/broker"
)

// Version is a Kafka release and its metadata mode, as a matrix's rows name them.
type Version struct {
	Kafka, Metadata string
}

// String is "3.9.1/zookeeper".
func (v Version) String() string { return v.Kafka + "/" + v.Metadata }

// ParseVersions reads a comma list of versions, each "V" (the release's default metadata mode:
// ZooKeeper for 3.x, KRaft for 4.x) or "V/zookeeper", "V/kraft". Each is resolved and checked as
// a cluster spec would be; an empty item, a malformed or unsupported one, or one given twice is
// an error naming it.
func ParseVersions(list string) ([]Version, error) {
	var out []Version
	seen := map[Version]string{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("versions %q: an empty item", list)
		}
		kafka, metadata, _ := strings.Cut(item, "/")
		if kafka == "" || strings.Contains(metadata, "/") {
			return nil, fmt.Errorf("version %q: want V or V/zookeeper or V/kraft, as 3.9.1/kraft", item)
		}
		c := broker.ClusterSpec{KafkaVersion: kafka, Metadata: metadata}.WithDefaults()
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("version %q: %w", item, err)
		}
		v := Version{Kafka: c.KafkaVersion, Metadata: c.Metadata}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("version %q: %s already given as %q", item, v, prev)
		}
		seen[v] = item
		out = append(out, v)
	}
	return out, nil
}

// compareVersions orders "3.9.1/zookeeper" strings by release, number by number, then by
// metadata mode.
func compareVersions(a, b string) int {
	ak, am, _ := strings.Cut(a, "/")
	bk, bm, _ := strings.Cut(b, "/")
	ap, bp := strings.Split(ak, "."), strings.Split(bk, ".")
	for i := range min(len(ap), len(bp)) {
		an, aerr := strconv.Atoi(ap[i])
		bn, berr := strconv.Atoi(bp[i])
		switch {
		case aerr == nil && berr == nil && an != bn:
			return an - bn
		case (aerr != nil || berr != nil) && ap[i] != bp[i]:
			return strings.Compare(ap[i], bp[i])
		}
	}
	if len(ap) != len(bp) {
		return len(ap) - len(bp)
	}
	return strings.Compare(am, bm)
}
