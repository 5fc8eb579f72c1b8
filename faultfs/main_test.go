package faultfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// helperEnv makes the test binary a process that mounts and then waits to
// be killed, to leave a stale mount behind.
const helperEnv = "FAULTFS_TEST_MOUNT_HELPER"

func TestMain(m *testing.M) {
	if dirs := os.Getenv(helperEnv); dirs != "" {
		os.Exit(mountHelper(dirs))
	}
	os.Exit(m.Run())
}

func mountHelper(dirs string) int {
	backing, mnt := filepath.Dir(dirs)+"/backing", dirs
	if _, err := Mount(backing, mnt, Options{}); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("mounted")
	select {}
}
