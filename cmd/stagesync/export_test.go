package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// seedLibraryMore adds what seedLibrary leaves out: a component with a
// list, a union relation, a sequel and German localizations, and a
// published book with a newer draft.
func seedLibraryMore(t *testing.T, s *stagetest.Server) {
	t.Helper()
	st := s.Stage
	authors := st.All("Author", "DRAFT")
	tags := st.All("Tag", "DRAFT")
	books := st.All("Book", "DRAFT")
	ids, err := st.Seed("Book", "PUBLISHED", map[string]any{
		"title": "Tehanu", "pages": 250, "genre": "FICTION",
		"author":        authors[0]["id"],
		"tags":          []any{tags[0]["id"], tags[1]["id"]},
		"prequel":       books[1]["id"],
		"related":       []any{authors[0]["id"], tags[1]["id"]},
		"seo":           map[string]any{"create": map[string]any{"title": "Tehanu", "keywords": []any{"earthsea", "dragons"}}},
		"body":          map[string]any{"children": []any{map[string]any{"type": "paragraph", "children": []any{map[string]any{"text": "Tenar."}}}}},
		"summary":       "Tenar and Therru.",
		"localizations": map[string]any{"de": map[string]any{"summary": "Tenar und Therru."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(t.Context(), "Book", ids[0], map[string]any{"pages": 260}); err != nil {
		t.Fatal(err)
	}
}

// TestExportImportCommands: export a stage, plan and import the snapshot
// into an empty stage (--verify compares it with the snapshot), import
// again (nothing written), sync --from DIR, and refuse a bad snapshot.
func TestExportImportCommands(t *testing.T) {
	// The scratch files of the snapshot source and of the content hashes
	// go to TMPDIR; none is left behind (checked at the end).
	scratch := t.TempDir()
	t.Setenv("TMPDIR", scratch)
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	seedLibraryMore(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap")

	code, stdout, stderr := runCLI(t, "export", "--from", src.URL, "--from-token-env", "SRC_TOKEN", "-o", snap)
	if code != exitOK {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "snapshot written to") || !strings.Contains(stderr, "export: Book:") {
		t.Errorf("export output:\n%s\n%s", stdout, stderr)
	}
	for _, f := range []string{"manifest.json", "nodes/000001.json", "relations/000001.json"} {
		if _, err := os.Stat(filepath.Join(snap, f)); err != nil {
			t.Errorf("snapshot: %v", err)
		}
	}

	if b, _ := os.ReadFile(filepath.Join(snap, "nodes", "000001.json")); !strings.Contains(string(b), `"keywords":["earthsea","dragons"]`) {
		t.Errorf("the component's list is not in the nodes:\n%s", b)
	}

	to := []string{"--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000", "--state", filepath.Join(dir, "state.db"), "--yes"}
	code, stdout, stderr = runCLI(t, append([]string{"plan", "--from", snap}, to[:len(to)-1]...)...)
	if code != exitOK || !strings.HasPrefix(tableRow(stdout, "Book"), "Book 4 ") {
		t.Fatalf("plan --from DIR: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Errorf("plan ran %d mutations", n)
	}

	code, stdout, stderr = runCLI(t, append([]string{"import", snap, "--verify"}, to...)...)
	if code != exitOK {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, model := range []string{"Author", "Book", "Tag"} {
		for _, stage := range []string{"DRAFT", "PUBLISHED"} {
			if got, want := len(dst.Stage.All(model, stage)), len(src.Stage.All(model, stage)); got != want {
				t.Errorf("%s in %s: %d entries, want %d", model, stage, got, want)
			}
		}
	}
	written := dst.Stage.Counters().EntriesWritten

	code, stdout, stderr = runCLI(t, append([]string{"import", snap}, to...)...)
	if code != exitOK {
		t.Fatalf("second import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := dst.Stage.Counters().EntriesWritten; n != written {
		t.Errorf("the second import wrote %d entries", n-written)
	}
	code, stdout, stderr = runCLI(t, append([]string{"sync", "--from", snap}, to...)...)
	if code != exitOK || dst.Stage.Counters().EntriesWritten != written {
		t.Errorf("sync --from DIR after the import: exit %d, wrote %d\n%s\n%s", code, dst.Stage.Counters().EntriesWritten-written, stdout, stderr)
	}

	// A bad relation: refused before anything is read from the destination.
	bad := libraryStage(t, nil)
	t.Setenv("BAD_TOKEN", bad.Token)
	if err := os.WriteFile(filepath.Join(snap, "relations", "000009.json"), []byte(`{"valueType":"relations","values":[
[{"_typeName":"Book","id":"nope","fieldName":"author","_position":0},{"_typeName":"Author","id":"gone","fieldName":"books"}]
]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "import", snap, "--to", bad.URL, "--to-token-env", "BAD_TOKEN", "--yes", "--state", filepath.Join(dir, "bad.db"))
	if code != exitUsage || !strings.Contains(stderr, "000009.json:2: value 0 (Book \"nope\")") {
		t.Errorf("import of a bad snapshot: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if c := bad.Stage.Counters(); c.Requests != 0 {
		t.Errorf("the bad import sent %d requests to the destination", c.Requests)
	}
	left, err := os.ReadDir(scratch)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "stagesync-") {
			t.Errorf("scratch %s left in TMPDIR", e.Name())
		}
	}
}

// TestImportLegacyCommand: import --legacy sends the snapshot's DRAFT
// content through /import; twice, it links nothing twice. Every entry is
// published as its draft is first: a published version that differs is
// refused (TestImportLegacyRefusesDifferingPublished).
func TestImportLegacyCommand(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	seedLibraryMore(t, src)
	for _, m := range []string{"Author", "Tag", "Book"} {
		for _, e := range src.Stage.All(m, "DRAFT") {
			if err := src.Stage.Publish(m, e["id"].(string)); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	snap := filepath.Join(t.TempDir(), "snap")
	if code, stdout, stderr := runCLI(t, "export", "--from", src.URL, "--from-token-env", "SRC_TOKEN", "-o", snap, "-q"); code != exitOK {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for run := 1; run <= 2; run++ {
		code, stdout, stderr := runCLI(t, "import", snap, "--legacy", "--to", dst.URL, "--to-token-env", "DST_TOKEN")
		if code != exitOK {
			t.Fatalf("import --legacy run %d: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
		if !strings.Contains(stdout, "arrive as drafts") {
			t.Errorf("run %d: no note that published entries arrive as drafts:\n%s", run, stdout)
		}
		for _, b := range src.Stage.All("Book", "DRAFT") {
			got, ok := dst.Stage.Get("Book", b["id"].(string), "DRAFT")
			if !ok {
				t.Fatalf("run %d: book %v missing", run, b["title"])
			}
			for _, f := range []string{"tags", "author", "related", "title", "pages", "seo"} {
				if g, w := jsonOf(got[f]), jsonOf(b[f]); f != "seo" && g != w {
					t.Errorf("run %d: book %v %s = %s, want %s", run, b["title"], f, g, w)
				}
			}
		}
		tag := src.Stage.All("Tag", "DRAFT")[0]
		got, _ := dst.Stage.Get("Tag", tag["id"].(string), "DRAFT")
		if g, w := jsonOf(got["books"]), jsonOf(tag["books"]); len(g) != len(w) {
			t.Errorf("run %d: tag books = %s, want %s (no duplicates)", run, g, w)
		}
	}
}

// TestImportLegacyRefusesDifferingPublished: the legacy /import has no
// stages, so import --legacy of a snapshot with a published book whose
// newer draft differs refuses before writing anything, naming the book and
// the import to use instead, rather than importing the draft alone and
// silently dropping the published version (which the code before this
// test did, exiting 0).
func TestImportLegacyRefusesDifferingPublished(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	seedLibraryMore(t, src) // Tehanu: published with 250 pages, 260 in its draft
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	snap := filepath.Join(t.TempDir(), "snap")
	if code, stdout, stderr := runCLI(t, "export", "--from", src.URL, "--from-token-env", "SRC_TOKEN", "-o", snap, "-q"); code != exitOK {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var tehanu string
	for _, b := range src.Stage.All("Book", "DRAFT") {
		if b["title"] == "Tehanu" {
			tehanu = b["id"].(string)
		}
	}
	code, stdout, stderr := runCLI(t, "import", snap, "--legacy", "--to", dst.URL, "--to-token-env", "DST_TOKEN")
	if code != exitUsage {
		t.Fatalf("import --legacy: exit %d, want %d (refused)\n%s\n%s", code, exitUsage, stdout, stderr)
	}
	for _, want := range []string{`Book "` + tehanu + `"`, "PUBLISHED version differs", "without --legacy", "Nothing was written"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, stderr)
		}
	}
	for _, m := range []string{"Book", "Author", "Tag"} {
		if n := len(dst.Stage.All(m, "DRAFT")); n != 0 {
			t.Errorf("%d %s entries written", n, m)
		}
	}
}

func jsonOf(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// TestPlanApplyFromSnapshot: plan --from DIR -o FILE, then apply FILE,
// which opens the snapshot again.
func TestPlanApplyFromSnapshot(t *testing.T) {
	src, dst := libraryStage(t, nil), libraryStage(t, nil)
	seedLibrary(t, src)
	t.Setenv("SRC_TOKEN", src.Token)
	t.Setenv("DST_TOKEN", dst.Token)
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap")
	if code, stdout, stderr := runCLI(t, "export", "--from", src.URL, "--from-token-env", "SRC_TOKEN", "-o", snap, "-q"); code != exitOK {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	plan := filepath.Join(dir, "snap.plan")
	code, stdout, stderr := runCLI(t, "plan", "--from", snap, "--to", dst.URL, "--to-token-env", "DST_TOKEN", "--rate", "1000",
		"--state", filepath.Join(dir, "state.db"), "-o", plan, "-q")
	if code != exitOK {
		t.Fatalf("plan -o: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "apply", plan, "--yes", "-q")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := len(dst.Stage.All("Book", "DRAFT")), len(src.Stage.All("Book", "DRAFT")); got != want {
		t.Errorf("after apply: %d books, want %d", got, want)
	}
}
