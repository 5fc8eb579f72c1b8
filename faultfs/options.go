package faultfs

import "time"

// DefaultWritebackAge is how old dirty data gets before the background
// writeback makes it durable, as Linux's vm.dirty_expire_centisecs (30 s).
const DefaultWritebackAge = 30 * time.Second

// MetadataModel says which fsync makes a namespace operation (create, unlink,
// rename, mkdir, rmdir, link, symlink) durable.
type MetadataModel int

const (
	// DirSync is the POSIX rule, as lazyfs and careful applications assume:
	// an operation is durable once a directory it changed is fsynced. An
	// fsync of a file makes its data durable, not its name.
	DirSync MetadataModel = iota
	// Journal is closer to ext4 and xfs: metadata goes through one journal,
	// so an fsync of any file or directory makes every earlier namespace
	// operation durable.
	Journal
)

// String names the model.
func (m MetadataModel) String() string {
	switch m {
	case DirSync:
		return "dir-sync"
	case Journal:
		return "journal"
	}
	return "unknown"
}

// Options tunes a mount. The zero value is the default.
type Options struct {
	// WritebackAge is how long data and namespace operations stay
	// non-durable before the background writeback makes them durable.
	// Zero means DefaultWritebackAge; negative disables writeback.
	WritebackAge time.Duration
	// Metadata is the durability rule for namespace operations.
	Metadata MetadataModel
	// Debug logs every FUSE request.
	Debug bool
}

func (o Options) writebackAge() time.Duration {
	if o.WritebackAge == 0 {
		return DefaultWritebackAge
	}
	return o.WritebackAge
}
