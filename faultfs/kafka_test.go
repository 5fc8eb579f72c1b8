package faultfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kafkaEnv opts in to TestKafkaLosesUnsyncedAcks, which takes minutes.
const kafkaEnv = "FAULTFS_KAFKA"

// kafkaImage is the image kchaos runs Kafka from (scripts/setup builds it).
const kafkaImage = "kchaos/kafka:3.9.1"

const kafkaProps = `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
log.dirs=/data/kafka
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
num.partitions=1
`

// kafkaRecords is how many records the test produces.
const kafkaRecords = 5000

// kafkaScript formats the storage of a single KRaft node on /data
// (MODE=format), or starts it and then produces kafkaRecords records with
// acks=all (MODE=produce) or prints the end offsets.
const kafkaScript = `set -e
CP="/opt/kafka/libs/*"
if [ "$MODE" = format ]; then
  exec java -cp "$CP" kafka.tools.StorageTool format -t faultfs-kafka-test-01 -c /etc/kchaos/s.properties
fi
java -Xmx512m -cp "$CP" -Dlog4j.configuration=file:/dev/null kafka.Kafka /etc/kchaos/s.properties > /tmp/kafka.log 2>&1 &
for i in $(seq 120); do (echo > /dev/tcp/localhost/9092) 2>/dev/null && break; sleep 1; done
sleep 3
if [ "$MODE" = produce ]; then
  java -cp "$CP" org.apache.kafka.tools.ProducerPerformance --topic t --num-records $RECORDS --record-size 512 \
    --throughput -1 --producer-props bootstrap.servers=localhost:9092 acks=all
  sleep 3600
else
  java -cp "$CP" org.apache.kafka.tools.GetOffsetShell --bootstrap-server localhost:9092 --topic t
fi
`

// TestKafkaAcksAcrossACrash runs a one-node Kafka on the mount, produces
// with acks=all, kills the container, crashes the filesystem and restarts
// Kafka. By default Kafka acknowledges without fsync (flush.messages is
// unbounded), so the acknowledged records are gone; with an fsync per
// message they all survive. Opt in with FAULTFS_KAFKA=1.
func TestKafkaAcksAcrossACrash(t *testing.T) {
	if os.Getenv(kafkaEnv) == "" {
		t.Skipf("set %s=1 to run Kafka on faultfs (minutes)", kafkaEnv)
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers (docker info: %v: %s)", err, strings.TrimSpace(string(out)))
	}
	if err := exec.Command("docker", "image", "inspect", kafkaImage).Run(); err != nil {
		t.Skipf("image %s is not built (scripts/setup builds it)", kafkaImage)
	}
	tests := []struct {
		name  string
		props string
		// kept says whether every acknowledged record must survive;
		// otherwise the records must have been lost.
		kept bool
	}{
		{name: "default flush loses acks", props: "", kept: false},
		{name: "flush every message keeps acks", props: "log.flush.interval.messages=1\n", kept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, loss := runKafkaCrash(t, kafkaProps+tt.props)
			if tt.kept {
				require.Equal(t, kafkaRecords, end, "acknowledged records lost; the crash dropped %+v", loss)
				return
			}
			require.Greater(t, loss.Bytes(), int64(kafkaRecords*512), "the records were not in the cache")
			require.Less(t, end, kafkaRecords, "every acknowledged record survived a crash that dropped them")
		})
	}
}

// runKafkaCrash formats and starts Kafka with props on a fresh mount,
// produces kafkaRecords records, kills Kafka, crashes the mount, restarts
// Kafka and returns the end offset of the topic and what the crash lost.
func runKafkaCrash(t *testing.T, props string) (int, Loss) {
	f, mnt, _ := mountT(t, Options{WritebackAge: time.Hour})
	conf := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(conf, "s.properties"), []byte(props), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(conf, "run.sh"), []byte(kafkaScript), 0o644))
	name := fmt.Sprintf("faultfs-kafka-%d", os.Getpid())
	docker := func(mode string, extra ...string) *exec.Cmd {
		args := append([]string{"run", "--name", name, "-e", "MODE=" + mode, "-e", fmt.Sprint("RECORDS=", kafkaRecords),
			"-v", mnt + ":/data", "-v", conf + ":/etc/kchaos:ro"}, extra...)
		return exec.Command("docker", append(args, kafkaImage, "bash", "/etc/kchaos/run.sh")...)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })

	// The StorageTool does not fsync /data after creating /data/kafka: under
	// DirSync the whole log dir would vanish. Setting up counts as durable.
	out, err := docker("format", "--rm").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NoError(t, f.Sync())

	out, err = docker("produce", "-d").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Eventually(t, func() bool {
		logs, _ := exec.Command("docker", "logs", name).CombinedOutput()
		return strings.Contains(string(logs), fmt.Sprint(kafkaRecords, " records sent"))
	}, 5*time.Minute, 2*time.Second, "the producer did not finish")
	require.NoError(t, exec.Command("docker", "rm", "-f", name).Run()) // SIGKILL
	loss, err := f.Crash()
	require.NoError(t, err)
	t.Logf("acknowledged %d records; the crash dropped %d bytes: %+v %+v", kafkaRecords, loss.Bytes(), loss.Files, loss.Ops)

	out, err = docker("check", "--rm").CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`(?m)^t:0:(\d+)$`).FindSubmatch(out)
	require.NotNil(t, m, "no end offset in %s", out)
	end, _ := strconv.Atoi(string(m[1]))
	t.Logf("end offset after the crash: %d", end)
	return end, loss
}
