// The match step of a sync: what a source entry's destination entry is
// (the identity map, the same id, a unique field, or a create in flight
// that is identified beyond doubt) and what its relations point at.

package stagesync

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// contentDigest digests the content of a version: the keys of h among
// keys (every key of h when keys is nil) whose value is neither null nor
// an empty list, with their hashes. (A list the create did not send reads
// back empty.) The digest of what a create sent equals the digest of the
// destination entry it made, as long as nothing else wrote to that entry.
func contentDigest(h fieldHashes, keys []string) string {
	if keys == nil {
		keys = slices.Sorted(maps.Keys(h))
	} else {
		keys = slices.Sorted(slices.Values(keys))
	}
	sum := sha256.New()
	var n [8]byte
	for _, k := range keys {
		v, ok := h[k]
		if !ok || v == hashNil || v == hashEmptyList {
			continue
		}
		sum.Write([]byte(k))
		sum.Write([]byte{0})
		binary.BigEndian.PutUint64(n[:], v)
		sum.Write(n[:])
	}
	return hex.EncodeToString(sum.Sum(nil)[:16])
}

// createDigest is the contentDigest of the fields of a version of model
// that a create writes: all but those the relation pass writes later
// (which another entry's create may have filled in the meantime, on the
// other side of a two-way relation).
func (e *engine) createDigest(model string, h fieldHashes) string {
	if e.copiesAssets(model) {
		return assetDigest(h)
	}
	keys := []string{}
	for k := range h {
		name, _, _ := strings.Cut(k, "@")
		if !e.ord.deferred[model][name] {
			keys = append(keys, k)
		}
	}
	return contentDigest(h, keys)
}

// sentVersion returns the canonical version v of an entry of model as a
// create sends it: the relation targets that have no destination entry
// (placeholders) left out, as inputBuilder.build leaves them out. The
// entry the create makes reads back without them, so the digest of what
// was sent (see pendingCreate) must not hold them either: a create whose
// answer was lost would not be adopted and would be made again.
func (e *engine) sentVersion(model string, v map[string]any) map[string]any {
	m := e.dst.Model(model)
	var out map[string]any
	for k, x := range v {
		name, _, _ := strings.Cut(k, "@")
		f := m.Field(name)
		if f == nil || !isRelation(f.Kind) {
			continue
		}
		kept, changed := withoutPlaceholders(x)
		if !changed {
			continue
		}
		if out == nil {
			out = maps.Clone(v)
		}
		out[k] = kept
	}
	if out == nil {
		return v
	}
	return out
}

// withoutPlaceholders returns a canonical relation value without its
// targets that are placeholders ("?id", or "Type:?id" for union members),
// and whether it left any out.
func withoutPlaceholders(x any) (any, bool) {
	missing := func(r any) bool {
		s, ok := r.(string)
		return ok && (strings.HasPrefix(s, placeholder) || strings.Contains(s, ":"+placeholder))
	}
	list, ok := x.([]any)
	if !ok {
		if missing(x) {
			return nil, true
		}
		return x, false
	}
	if !slices.ContainsFunc(list, missing) {
		return x, false
	}
	return slices.DeleteFunc(slices.Clone(list), missing), true
}

// hashEmptyList is the hash of an empty list.
var hashEmptyList = hashValue([]any{})

// ambiguousCreateError reports a create in flight (its answer lost) that
// may have arrived as any of several destination entries. None of them is
// adopted and nothing is written for the source entry; the candidates are
// kept (never deleted as orphans) until the user resolves it.
//
// Entries that share their content and creation time are told apart by
// nothing but their ids, so twins in the source (two identical entries
// created together) whose creates both lost their answers stay ambiguous.
type ambiguousCreateError struct {
	model, srcID string
	candidates   []string
}

func (e *ambiguousCreateError) Error() string {
	return fmt.Sprintf("%s %s: a create of this entry lost its answer, and destination entries %s all hold what it sent "+
		"(same creation time and content), so none of them is adopted and nothing is written for it; "+
		"delete the copies you do not want in the destination (or set the identity map with `stagesync state adopt`) and run again",
		e.model, e.srcID, strings.Join(e.candidates, ", "))
}

// adopt finds the destination entry a create in flight of an earlier run
// made, if it arrived: the one unmatched entry, not mapped to another
// source entry, that holds exactly the content sent, created at the time
// sent. None such: the create did not arrive (nil). More than one: an
// *ambiguousCreateError, and the candidates are kept: mirror mode never
// deletes them.
func (e *engine) adopt(model, srcID string, pc pendingCreate, di *destIndex) (*destEntry, error) {
	var cands []*destEntry
	switch {
	case pc.sent != "":
		cands = di.unmatchedByContent(pc.sent)
		if pc.created != "" {
			created := timeKey(pc.created)
			cands = slices.DeleteFunc(cands, func(d *destEntry) bool { return d.created != created })
		}
	case pc.created != "":
		// Recorded by an older version: the creation time alone. Another
		// create in flight with that time could have made the entry.
		cands = di.unmatchedByCreated(timeKey(pc.created))
		if len(cands) > 0 && e.state.pendingSharing(model, pc.created) > 1 {
			return nil, e.ambiguous(model, srcID, cands, di)
		}
	default:
		return nil, nil
	}
	cands = slices.DeleteFunc(cands, func(d *destEntry) bool {
		_, mapped := e.state.SourceID(model, d.id)
		return mapped
	})
	switch len(cands) {
	case 0:
		return nil, nil
	case 1:
		return cands[0], nil
	}
	return nil, e.ambiguous(model, srcID, cands, di)
}

func (e *engine) ambiguous(model, srcID string, cands []*destEntry, di *destIndex) error {
	err := &ambiguousCreateError{model: model, srcID: srcID}
	for _, d := range cands {
		di.keep(d.id)
		err.candidates = append(err.candidates, d.id)
	}
	return err
}

// destRef is a destination entry of a model.
type destRef struct{ model, id string }

// destEntry is what the engine keeps of a destination entry: hashes, not
// content, so that memory stays small.
type destEntry struct {
	model      string
	id         string
	draft, pub fieldHashes // pub is nil when unpublished
	comps      map[string][]string
	key        string // value of the match field
	created    string // createdAt, normalized (see timeKey)
	content    string // digest of the draft's content (see contentDigest)
	matched    bool
	// files and status are an asset's (see assetRun): its file handles
	// by locale ("" for the default locale), and its upload status.
	files  map[string]string
	status string
}

// resolve maps a source id of model to the destination: through the
// identity map, or, for models left out of the sync, to the destination
// entry with the same id (stages cloned from each other share ids) when
// one exists (see outside).
func (e *engine) resolve(model, id string) (string, bool) {
	if d, ok := e.state.DestID(model, id); ok {
		return d, true
	}
	if !e.inRun(model, id) && e.outside != nil && e.outside.exists(model, id) {
		return id, true
	}
	return "", false
}

func sameID(_, id string) (string, bool) { return id, true }
