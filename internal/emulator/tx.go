package emulator

import "github.com/stagesync/stagesync/internal/emulator/store"

// tx is the unit of work of one root mutation field: a store.Tx, and the
// stage it changes.
type tx struct {
	*store.Tx
	s *Stage
}

func (s *Stage) begin() *tx {
	return &tx{Tx: s.st.Begin(store.FormatTime(s.cfg.clock())), s: s}
}

// inTx runs fn in one tx under the write lock: rolled back when fn fails,
// committed (written through to the backend) when it succeeds.
func (s *Stage) inTx(fn func(t *tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.begin()
	if err := fn(t); err != nil {
		t.Rollback()
		return err
	}
	return t.commit()
}

// commit commits the store tx (see store.Tx.Commit), then counts the
// entries written and queues the webhooks of the changes.
func (t *tx) commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	t.s.counters.EntriesWritten.Add(int64(len(t.Order)))
	t.notifyHooks()
	return nil
}
