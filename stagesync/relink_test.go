package stagesync

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// applyConnects applies positioned connect inputs to a list as Hygraph's
// emulator does: an entry the list holds moves, a new one is inserted.
func applyConnects(list []string, connects []any, union bool) []string {
	for _, c := range connects {
		in := c.(map[string]any)
		typ := ""
		if union {
			for t, x := range in {
				typ, in = t, x.(map[string]any)
			}
		}
		id := in["where"].(map[string]any)["id"].(string)
		item := id
		if union {
			item = typ + ":" + id
		}
		list = slices.DeleteFunc(list, func(s string) bool { return s == item })
		pos := in["position"].(map[string]any)
		i := len(list)
		if pos["start"] == true {
			i = 0
		}
		if after, ok := pos["after"].(string); ok {
			for j, s := range list {
				if refID(s) == after {
					i = j + 1
				}
			}
		}
		list = slices.Insert(list, i, item)
	}
	return list
}

func TestPositioned(t *testing.T) {
	for _, c := range []struct {
		want, cur []string
		moves     int
	}{
		{want: []string{"a", "b", "c"}, cur: []string{"a", "b", "c"}, moves: 0},
		{want: []string{"a", "b", "c"}, cur: nil, moves: 3},
		{want: []string{"c", "a", "b"}, cur: []string{"a", "b", "c"}, moves: 1},
		{want: []string{"b", "c", "a"}, cur: []string{"a", "b", "c"}, moves: 1},
		{want: []string{"a", "x", "b"}, cur: []string{"b", "a", "y"}, moves: 2},
		{want: []string{"d", "c", "b", "a"}, cur: []string{"a", "b", "c", "d"}, moves: 3},
		{want: nil, cur: []string{"a"}, moves: 0},
	} {
		got := positioned(c.want, c.cur, false)
		if len(got) != c.moves {
			t.Errorf("positioned(%v, %v): %d connects, want %d", c.want, c.cur, len(got), c.moves)
		}
		res := applyConnects(slices.Clone(c.cur), got, false)
		res = slices.DeleteFunc(res, func(s string) bool { return !slices.Contains(c.want, s) })
		if !slices.Equal(res, c.want) && len(c.want) > 0 {
			t.Errorf("positioned(%v, %v) orders %v", c.want, c.cur, res)
		}
	}
	// Random lists, union members included.
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		var pool []string
		for i := range 12 {
			pool = append(pool, fmt.Sprintf("%s:id%d", []string{"Hero", "Text"}[i%2], i))
		}
		r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		want := slices.Clone(pool[:r.IntN(12)])
		r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		cur := slices.Clone(pool[:r.IntN(12)])
		res := applyConnects(slices.Clone(cur), positioned(want, cur, true), true)
		kept := slices.DeleteFunc(slices.Clone(res), func(s string) bool { return !slices.Contains(want, s) })
		if !slices.Equal(kept, want) {
			t.Fatalf("#%d: positioned(%v, %v) orders %v", n, want, cur, res)
		}
		for _, s := range cur {
			if !slices.Contains(res, s) {
				t.Fatalf("#%d: %s was dropped", n, s)
			}
		}
	}
}

func TestMovesInputDrops(t *testing.T) {
	in, ok := movesInput([]string{"b", "a"}, []string{"a", "c", "b"}, false, true)
	if !ok {
		t.Fatal("nothing to write")
	}
	dis := in["disconnect"].([]any)
	if len(dis) != 1 || dis[0].(map[string]any)["id"] != "c" {
		t.Errorf("disconnect %v, want c", dis)
	}
	if _, ok := movesInput([]string{"a", "b"}, []string{"a", "x", "b"}, false, false); ok {
		t.Error("a list in order, without drop, is written")
	}
}
