package bolt

import "time"

// CommitStats counts the group committer's work since Open: the
// transactions committed, the mutations they carried, the time spent in
// them and how that time splits (bench load reports them per commit).
type CommitStats struct {
	Commits uint64
	Calls   uint64
	Busy    time.Duration // whole batches, transaction begin to commit
	Apply   time.Duration // running the batched functions
	// bbolt's own split of all write transactions' commits: node
	// rebalancing and spilling (page splits), and writing the dirty pages
	// and meta page with their two fdatasyncs.
	Rebalance time.Duration
	Spill     time.Duration
	Write     time.Duration
	Writes    int64 // write syscalls (dirty page runs)
	// The free list now: free pages, pages pending release, and the
	// bytes a commit writes for it.
	FreePages, PendingPages, FreelistBytes int
}

// CommitStats returns the group committer's counts.
func (s *Store) CommitStats() CommitStats {
	st := s.db.Stats()
	return CommitStats{
		Commits: s.gc.commits.Load(), Calls: s.gc.calls.Load(),
		Busy: time.Duration(s.gc.busy.Load()), Apply: time.Duration(s.gc.apply.Load()),
		Rebalance: st.TxStats.GetRebalanceTime(), Spill: st.TxStats.GetSpillTime(),
		Write: st.TxStats.GetWriteTime(), Writes: st.TxStats.GetWrite(),
		FreePages: st.FreePageN, PendingPages: st.PendingPageN, FreelistBytes: st.FreelistInuse,
	}
}
