package entryform

import (
	"encoding/json"
	"testing"
)

func TestVersions(t *testing.T) {
	type hotel struct {
		ID     string  `json:"id"`
		Price  float64 `json:"price"`
		Stages []struct {
			Price float64 `json:"price"`
		} `json:"documentInStages"`
	}
	h := hotel{ID: "h1", Price: 12345678901234567, Stages: []struct {
		Price float64 `json:"price"`
	}{{Price: 2.5}}}
	draft, pub, err := Versions(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := draft["documentInStages"]; ok {
		t.Errorf("draft keeps documentInStages: %v", draft)
	}
	if n, ok := draft["price"].(json.Number); !ok || n.String() != "12345678901234568" {
		t.Errorf("draft price = %#v, want the json.Number as written", draft["price"])
	}
	if n, _ := pub["price"].(json.Number); n.String() != "2.5" {
		t.Errorf("published = %v, want price 2.5", pub)
	}
	if _, pub, _ := Versions(map[string]any{"id": "x", "documentInStages": []any{}}); pub != nil {
		t.Errorf("an entry with no published version has %v", pub)
	}
	if _, _, err := Versions(nil); err == nil {
		t.Error("a null entry is not an error")
	}
	e := map[string]any{"documentInStages": []any{map[string]any{"id": "p"}}}
	if PublishedOf(e) == nil || e["documentInStages"] == nil {
		t.Errorf("PublishedOf changed the entry or found nothing: %v", e)
	}
}

func TestList(t *testing.T) {
	one := map[string]any{"id": "a"}
	for _, c := range []struct {
		in   any
		want int
	}{{nil, 0}, {[]any{}, 0}, {[]any{one, one}, 2}, {one, 1}, {"x", 1}} {
		if got := List(c.in); len(got) != c.want || c.want == 1 && got[0] == nil {
			t.Errorf("List(%v) = %v, want %d values", c.in, got, c.want)
		}
	}
}
