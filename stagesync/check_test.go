package stagesync_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync"
)

// TestSyncConfigCheck gives Sync a configuration with a problem of every
// kind: Sync refuses it before reading or writing anything, with one
// ConfigError that names each problem, its stage and its fix.
func TestSyncConfigCheck(t *testing.T) {
	// Tag.code is unique in the source only; Shelf is a source model the
	// destination lacks.
	src := librarySchema(t, func(d string) string {
		d = strings.Replace(d, "  Tag:\n", "  Tag:\n    code: String unique\n", 1)
		return d + "  Shelf:\n    label: String\n"
	})
	dst := librarySchema(t, func(d string) string {
		return strings.Replace(d, "  Tag:\n", "  Tag:\n    code: String\n", 1)
	})
	p := newPair(t, src, dst)
	p.seedLibrary(t, 3)

	cfg := p.config()
	cfg.Models = []string{"Book", "", "Nope", "Seo", "Shelf", "book"}
	cfg.Match = map[string]string{
		"Book":   "pages", // not unique
		"Tag":    "code",  // unique in the source only
		"Author": "nick",  // no such field
		"Ghost":  "name",  // no such model
	}
	cfg.Defaults = map[string]any{
		"Book.pages":   "12",         // a string for an Int
		"Book.title":   float64(123), // a number for a String: --default Book.title=123
		"Book.genre":   "POETRY",     // not an enum value
		"Book.author":  map[string]any{"id": "x"},
		"Author.born":  "31/01/2024",
		"Book.nope":    "x",
		"Book.id":      "x",
		"Bookpages":    1,
		"Shelf.label":  "x", // not in the destination
		"Author.bio":   "fine",
		"Book.summary": nil,
		// Valid ones.
		"Tag.code": "none",
	}
	cfg.Handled = []string{"Book.nope", "Nope.*", "Book", "Seo.title", "Book.*", "Tag.code"}
	cfg.PageSize = -5

	_, _, err := stagesync.Sync(context.Background(), cfg)
	var ce *stagesync.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Sync: %v, want a *ConfigError", err)
	}
	msg := err.Error()
	t.Log(msg)
	srcName := `stage "source" (` + p.src.URL + `)`
	dstName := `stage "dest" (` + p.dst.URL + `)`
	for _, want := range []string{
		"Models: an empty model name",
		`Models Nope: no model "Nope" in either ` + srcName + " or " + dstName + ".",
		`Models Seo: "Seo" is a component in both stages, not a model.`,
		`Models Shelf: no model "Shelf" in ` + dstName + ".",
		`Models book: no model "book" in either ` + srcName + " or " + dstName + `. Fix: did you mean "Book"?`,
		"Match Book.pages: Book.pages is not unique in either stage",
		"Fix: match by a field unique in both stages (title)",
		`Match Tag.code: Tag.code is not unique in ` + dstName,
		`Match Author.nick: model Author has no field "nick" in either stage.`,
		`Match Ghost.name: no model "Ghost" in either`,
		`Defaults Book.pages: Book.pages is Int in ` + dstName + `: "12" is not an Int`,
		`Defaults Book.title: Book.title is String! in ` + dstName + `: 123 is not a string.`,
		`--default 'Model.field="123"'`,
		`Defaults Book.genre: Book.genre is Genre in ` + dstName + `: "POETRY" is not a value of the enum Genre.`,
		"Fix: give one of FICTION, SCIENCE, HISTORY.",
		"Defaults Book.author: Book.author is Author in " + dstName + ": a relation field (Author) cannot take a default.",
		`Defaults Author.born: Author.born is Date in ` + dstName + `: "31/01/2024" is not a Date`,
		`Defaults Book.nope: model Book has no field "nope" in ` + dstName,
		"Defaults Book.id: Book.id is a system field",
		`Defaults Bookpages: "Bookpages" is not Model.field.`,
		`Defaults Shelf.label: no model "Shelf" in ` + dstName,
		"Defaults Book.summary: Book.summary is String in " + dstName + ": null fills nothing.",
		`Handled Book.nope: model Book has no field "nope" in either stage.`,
		`Handled Nope.*: no model or component "Nope" in either`,
		`Handled Book: "Book" is not Model.field.`,
		"PageSize: page size -5 is negative.",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	for _, fine := range []string{"Author.bio", "Defaults Tag.code", "Seo.title", "Book.*", "Handled Tag.code"} {
		if strings.Contains(msg, fine) {
			t.Errorf("the error names %q, which is fine", fine)
		}
	}
	if got := len(ce.Problems); got != 23 {
		t.Errorf("%d problems, want 23", got)
	}
	for _, pr := range ce.Problems {
		if pr.Message == "" || pr.Fix == "" && pr.Option != "Models" {
			t.Errorf("problem without a message or a fix: %+v", pr)
		}
	}
	if c := p.src.Stage.Counters(); c.Queries != 0 {
		t.Errorf("the source was queried %d times", c.Queries)
	}
	if c := p.dst.Stage.Counters(); c.Queries+c.Mutations != 0 {
		t.Errorf("the destination was queried %d times, written %d times", c.Queries, c.Mutations)
	}

	// A page size above Hygraph's maximum.
	cfg = p.config()
	cfg.PageSize = 101
	if _, _, err := stagesync.Sync(context.Background(), cfg); !errors.As(err, &ce) || !strings.Contains(err.Error(), "above 100") {
		t.Errorf("page size 101: %v", err)
	}

	// Valid defaults of each kind pass the check.
	cfg = p.config()
	cfg.DryRun = true
	cfg.Models = []string{"Book", "Author"}
	cfg.Match = map[string]string{"Book": "title", "Author": "id"}
	cfg.Defaults = map[string]any{
		"Book.pages": float64(12), "Book.genre": "FICTION", "Author.born": "2024-01-31",
		"Book.title": "untitled", "Book.body": map[string]any{"children": []any{}},
	}
	cfg.PageSize = 100
	if _, _, err := stagesync.Sync(context.Background(), cfg); err != nil {
		t.Errorf("valid configuration: %v", err)
	}
}
