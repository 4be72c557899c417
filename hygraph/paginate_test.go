package hygraph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// source is a fake model keyed by sorted ids, changed while it is read.
type source struct {
	ids     []string // sorted
	fetches int
	failAt  int // fetch number that fails (0: none)
}

func newSource(n int) *source {
	s := &source{}
	for i := range n {
		s.ids = append(s.ids, fmt.Sprintf("e%03d", i*10))
	}
	return s
}

func (s *source) add(id string) {
	i, found := slices.BinarySearch(s.ids, id)
	if !found {
		s.ids = slices.Insert(s.ids, i, id)
	}
}

func (s *source) remove(id string) {
	if i, found := slices.BinarySearch(s.ids, id); found {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
}

// byCursor pages as `items(orderBy: id_ASC, after: $after, first: $first)`.
func (s *source) byCursor(_ context.Context, after string, first int) ([]string, string, bool, error) {
	s.fetches++
	if s.fetches == s.failAt {
		return nil, "", false, errors.New("stage unavailable")
	}
	i, found := slices.BinarySearch(s.ids, after)
	if found {
		i++
	}
	page := slices.Clone(s.ids[i:min(i+first, len(s.ids))])
	if len(page) == 0 {
		return nil, "", false, nil
	}
	return page, page[len(page)-1], len(page) == first, nil
}

// bySkip pages as `items(skip: $skip, first: $first)`, the seed's approach.
func (s *source) bySkip(_ context.Context, after string, first int) ([]string, string, bool, error) {
	skip, _ := strconv.Atoi(after)
	page := slices.Clone(s.ids[min(skip, len(s.ids)):min(skip+first, len(s.ids))])
	return page, strconv.Itoa(skip + len(page)), len(page) == first, nil
}

// TestPaginateConcurrentChanges: entries created and deleted during the
// read make it neither skip nor repeat any other entry.
func TestPaginateConcurrentChanges(t *testing.T) {
	tests := []struct {
		name      string
		skip      bool
		wantClean bool
	}{
		{"cursor", false, true},
		{"skip pagination skips entries (why it is not used)", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(50) // e000 … e490
			fetch := FetchFunc[string](src.byCursor)
			if tt.skip {
				fetch = src.bySkip
			}
			seen := map[string]int{}
			var order []string
			for id, err := range Paginate(context.Background(), fetch, WithPageSize(7)) {
				if err != nil {
					t.Fatal(err)
				}
				seen[id]++
				order = append(order, id)
				switch id {
				case "e100":
					src.remove("e050") // behind the cursor, already read
					src.remove("e200") // ahead, not read yet
					src.add("e005")    // created behind the cursor
					src.add("e305")    // created ahead of the cursor
				case "e300":
					src.remove("e030")
					src.remove("e040")
				}
			}
			clean := true
			for id, n := range seen {
				if n > 1 {
					clean = false
					t.Logf("%s read %d times", id, n)
				}
			}
			// Every entry that lived through the read is read exactly once.
			for i := range 50 {
				id := fmt.Sprintf("e%03d", i*10)
				if id == "e200" {
					continue
				}
				if seen[id] != 1 {
					clean = false
					t.Logf("%s read %d times", id, seen[id])
				}
			}
			if seen["e200"] != 0 {
				clean = false
			}
			if clean != tt.wantClean {
				t.Errorf("clean = %v, want %v; order %v", clean, tt.wantClean, order)
			}
			if tt.wantClean {
				if seen["e305"] != 1 || seen["e005"] != 0 {
					t.Errorf("new entries: e305 read %d times (want 1), e005 %d (want 0, behind the cursor)", seen["e305"], seen["e005"])
				}
				if !slices.IsSorted(order) {
					t.Errorf("not in id order: %v", order)
				}
			}
		})
	}
}

func TestPaginateStops(t *testing.T) {
	t.Run("error yielded once, then stop", func(t *testing.T) {
		src := newSource(30)
		src.failAt = 3
		var got []string
		var errs []error
		for id, err := range Paginate(context.Background(), src.byCursor, WithPageSize(10)) {
			if err != nil {
				errs = append(errs, err)
				continue // a consumer that keeps going still gets no more
			}
			got = append(got, id)
		}
		if len(got) != 20 || len(errs) != 1 || src.fetches != 3 {
			t.Errorf("got %d items, %d errors, %d fetches; want 20, 1, 3", len(got), len(errs), src.fetches)
		}
		if len(errs) == 1 && errs[0].Error() != `paginate: page after "e190": stage unavailable` {
			t.Errorf("err = %v", errs[0])
		}
	})
	t.Run("break stops fetching", func(t *testing.T) {
		src := newSource(100)
		n := 0
		for range Paginate(context.Background(), src.byCursor, WithPageSize(10)) {
			n++
			if n == 15 {
				break
			}
		}
		if src.fetches != 2 {
			t.Errorf("%d fetches after breaking in the second page", src.fetches)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		src := newSource(100)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var errs []error
		n := 0
		for _, err := range Paginate(ctx, src.byCursor, WithPageSize(10)) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if n++; n == 10 {
				cancel()
			}
		}
		if n != 10 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) || src.fetches != 1 {
			t.Errorf("n %d, errs %v, fetches %d", n, errs, src.fetches)
		}
	})
	t.Run("stuck cursor", func(t *testing.T) {
		stuck := func(context.Context, string, int) ([]int, string, bool, error) {
			return []int{1}, "same", true, nil
		}
		var errs []error
		n := 0
		for _, err := range Paginate(context.Background(), stuck, StartAfter("same")) {
			if err != nil {
				errs = append(errs, err)
			} else {
				n++
			}
		}
		if n != 1 || len(errs) != 1 || !errors.Is(errs[0], errStuck) {
			t.Errorf("n %d, errs %v", n, errs)
		}
	})
}

// TestPaginateResume: OnPage reports each page's end cursor once its items
// were consumed; StartAfter resumes there.
func TestPaginateResume(t *testing.T) {
	src := newSource(25)
	var checkpoints []string
	var first []string
	for id, err := range Paginate(context.Background(), src.byCursor, WithPageSize(10),
		OnPage(func(cursor string, n int) { checkpoints = append(checkpoints, fmt.Sprintf("%s/%d", cursor, n)) })) {
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, id)
		if len(first) == 13 {
			break // killed mid-page: the checkpoint is the end of page one
		}
	}
	if want := []string{"e090/10"}; !slices.Equal(checkpoints, want) {
		t.Fatalf("checkpoints = %v, want %v", checkpoints, want)
	}
	var rest []string
	for id, err := range Paginate(context.Background(), src.byCursor, WithPageSize(10), StartAfter("e090"),
		OnPage(func(cursor string, n int) { checkpoints = append(checkpoints, fmt.Sprintf("%s/%d", cursor, n)) })) {
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, id)
	}
	if len(rest) != 15 || rest[0] != "e100" {
		t.Errorf("resumed read = %v", rest)
	}
	if want := []string{"e090/10", "e190/10", "e240/5"}; !slices.Equal(checkpoints, want) {
		t.Errorf("checkpoints = %v, want %v", checkpoints, want)
	}
}
