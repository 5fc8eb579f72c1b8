// Package faultfs is a FUSE filesystem that loses what was never fsynced,
// as Jepsen's lazyfs does, and injects disk faults.
//
// Mount serves a backing directory at a mount point. Data written through
// the mount stays in the filesystem's own cache, as in a kernel page cache,
// until an fsync (or fdatasync) of the file, a Sync, or the background
// writeback once it is older than Options.WritebackAge (30 s by default, as
// Linux's dirty_expire) writes it to the backing file and fsyncs it there.
// Reads see the cache over the backing file.
//
// Namespace operations (create, mkdir, mknod, symlink, link, unlink, rmdir,
// rename) are applied to the backing directory at once and recorded in an
// undo journal; a removed or replaced object waits in a hidden trash
// directory. An operation becomes durable when a directory it changed is
// fsynced (Options.Metadata DirSync, the POSIX rule), or when any file or
// directory is fsynced (Journal, closer to ext4), or by writeback.
//
// Crash drops all cached data and undoes the pending namespace operations,
// newest first, as a power loss would, and returns the Loss. The mount stays
// up and serves what was durable; files opened before the crash fail with
// EIO.
//
// Inject switches faults on at run time: DiskFull (ENOSPC), DiskError (EIO,
// optionally for reads or writes only and under a path prefix) and SlowDisk
// (latency on writes and fsyncs). Clear switches them off.
//
// Mounts are named "kchaos-faultfs:pid=N" (type fuse.kchaos-faultfs); Sweep
// unmounts those whose process N is dead.
//
// See README.md for what is modelled, where it departs from Linux and ext4,
// and benchmark figures.
package faultfs
