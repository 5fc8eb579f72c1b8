package broker

import (
	"os"

	tclog "github.com/testcontainers/testcontainers-go/log"
)

// testcontainers-go reads its configuration once, from the environment. Two of its defaults do
// not fit kchaos: the Ryuk reaper image cannot be pulled where there is no registry (kchaos labels
// and removes its containers itself, see cleanup.go), and inside a machine that has /.dockerenv it
// dials the default gateway instead of the local engine. A value the user set is kept.
// Its per-container chatter is silenced: kchaos reports progress through Options.Logf.
func init() {
	setDefaultEnv("TESTCONTAINERS_RYUK_DISABLED", "true")
	setDefaultEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	if os.Getenv("KCHAOS_DEBUG_TESTCONTAINERS") == "" {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
}

func setDefaultEnv(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		os.Setenv(key, value)
	}
}
