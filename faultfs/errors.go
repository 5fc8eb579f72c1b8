package faultfs

import "fmt"

// MissingError says that the machine lacks something FUSE mounts need.
type MissingError struct {
	// What is missing: "/dev/fuse", "fusermount3", "user_allow_other in /etc/fuse.conf".
	What string
	// Hint says how to get it.
	Hint string
}

// Error implements error.
func (e *MissingError) Error() string {
	return fmt.Sprintf("faultfs: %s is missing: %s", e.What, e.Hint)
}
