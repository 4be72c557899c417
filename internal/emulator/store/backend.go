package store

// Backend is where an emulated stage keeps its documents between restarts.
// The emulator holds every document in memory and writes through to the
// Backend; a write is acknowledged to the client only after Apply returns,
// so an acknowledged write survives a crash of the process.
//
// Documents are opaque JSON blobs to the Backend, keyed by a bucket (e.g. a
// model name or "_meta") and a key (e.g. an entry id).
type Backend interface {
	// Load calls fn for every stored record, in any order. It is called
	// once, when the emulator starts.
	Load(fn func(bucket, key string, value []byte) error) error
	// Apply stores a batch of writes atomically and durably.
	Apply(writes []Write) error
	// Close releases the backend.
	Close() error
}

// Write is one record to store; a nil Value deletes the record.
type Write struct {
	Bucket string
	Key    string
	Value  []byte
}
