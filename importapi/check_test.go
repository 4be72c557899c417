package importapi_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// writeNDF writes NDF files into a new directory: path → content.
func writeNDF(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	goodDestination = `{"_typeName":"Destination","id":"d1","name":"Lisbon","slug":"lisbon"}`
	goodHotel       = `{"_typeName":"Hotel","id":"h1","name":"Tivoli","slug":"tivoli"}`
)

func nodesFile(values ...string) string {
	return "{\"valueType\":\"nodes\",\"values\":[\n" + strings.Join(values, ",\n") + "\n]}\n"
}

func relationsFile(values ...string) string {
	return "{\"valueType\":\"relations\",\"values\":[\n" + strings.Join(values, ",\n") + "\n]}\n"
}

// TestNDFBadInput: each kind of bad input is refused with an error naming
// the file, the line, the value's index and the entry.
func TestNDFBadInput(t *testing.T) {
	p, err := schema.Discover(hotelsSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{
			name:  "truncated file",
			files: map[string]string{"nodes/000001.json": "{\"valueType\":\"nodes\",\"values\":[\n" + goodDestination + ",\n" + `{"_typeName":"Hotel","id":"h1","na`},
			want:  []string{"nodes/000001.json:3", "value 1", "truncated"},
		},
		{
			name:  "file cut after a value",
			files: map[string]string{"nodes/000001.json": "{\"valueType\":\"nodes\",\"values\":[\n" + goodDestination + ",\n"},
			want:  []string{"nodes/000001.json:", "truncated"},
		},
		{
			name:  "malformed JSON",
			files: map[string]string{"nodes/000001.json": nodesFile(goodDestination, `{"_typeName":"Hotel" "id":"h1"}`)},
			want:  []string{"nodes/000001.json:3", "value 1", "malformed JSON"},
		},
		{
			name:  "unknown _typeName",
			files: map[string]string{"nodes/000001.json": nodesFile(goodDestination, `{"_typeName":"Hotle","id":"h1","name":"x"}`)},
			want:  []string{"nodes/000001.json:3: value 1 (Hotle \"h1\")", `unknown _typeName "Hotle"`},
		},
		{
			name:  "id over 25 characters",
			files: map[string]string{"nodes/000001.json": nodesFile(`{"_typeName":"Hotel","id":"cthisidiswaytoolongforhygraph","name":"x","slug":"x"}`)},
			want:  []string{"nodes/000001.json:2: value 0 (Hotel \"cthisidiswaytoolongforhygraph\")", "29 characters", "at most 25"},
		},
		{
			name: "relation to a node not in the snapshot",
			files: map[string]string{
				"nodes/000001.json":     nodesFile(goodHotel),
				"relations/000001.json": relationsFile(`[{"_typeName":"Hotel","id":"h1","fieldName":"destination"},{"_typeName":"Destination","id":"d9","fieldName":"hotels"}]`),
			},
			want: []string{"relations/000001.json:2: value 0 (Hotel \"h1\")", `Destination "d9" is not in the snapshot`},
		},
		{
			name: "published list of a node that is not published",
			files: map[string]string{
				"nodes/000001.json": nodesFile(goodHotel),
				"lists/000001.json": "{\"valueType\":\"lists\",\"values\":[\n" + `{"_typeName":"Hotel","id":"h1","_stage":"PUBLISHED","name":["x"]}` + "\n]}\n",
			},
			want: []string{"lists/000001.json:2: value 0 (Hotel \"h1\")", "no PUBLISHED node"},
		},
		{
			name:  "field the model lacks",
			files: map[string]string{"nodes/000001.json": nodesFile(`{"_typeName":"Hotel","id":"h1","name":"x","slug":"x","pool":true}`)},
			want:  []string{"nodes/000001.json:2: value 0 (Hotel \"h1\")", `has no field "pool"`},
		},
		{
			name:  "wrong valueType",
			files: map[string]string{"nodes/000001.json": relationsFile()},
			want:  []string{"nodes/000001.json:1", "holds relations, expected nodes"},
		},
		{
			name:  "empty directory",
			files: map[string]string{},
			want:  []string{"no NDF nodes files"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeNDF(t, tt.files)
			_, err := importapi.Check(dir, p)
			if err == nil {
				t.Fatal("Check accepted bad input")
			}
			msg := filepath.ToSlash(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var ie *importapi.InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError", err)
			}
		})
	}
}

// TestNDFLegacyFileImportable: a plain legacy NDF set (no stagesync
// extension) passes the check and loads, each relation pair linking both
// sides.
func TestNDFLegacyFileImportable(t *testing.T) {
	s := hotelsSchema(t)
	p, err := schema.Discover(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(goodDestination, goodHotel,
			`{"_typeName":"Hotel","id":"h2","name":"Avenida","slug":"avenida","stars":4}`),
		"relations/000001.json": relationsFile(
			`[{"_typeName":"Hotel","id":"h1","fieldName":"destination"},{"_typeName":"Destination","id":"d1","fieldName":"hotels"}]`,
			`[{"_typeName":"Destination","id":"d1","fieldName":"hotels"},{"_typeName":"Hotel","id":"h2","fieldName":"destination"}]`),
	})
	res, err := importapi.Check(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Nodes != 3 || res.Relations != 2 {
		t.Errorf("Check counted %+v, want 3 nodes and 2 relations", res)
	}
	st, err := stagetest.NewStage(s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := importapi.Load(t.Context(), dir, st); err != nil {
		t.Fatal(err)
	}
	d, ok := st.Get("Destination", "d1", "DRAFT")
	if !ok {
		t.Fatal("d1 was not loaded")
	}
	if got := d["hotels"]; !equalIDs(got, "h1", "h2") {
		t.Errorf("Destination d1 hotels = %v, want [h1 h2]", got)
	}
	h, _ := st.Get("Hotel", "h2", "DRAFT")
	if h["destination"] != "d1" || h["stars"] != int64(4) {
		t.Errorf("Hotel h2 = %v, want destination d1 and 4 stars", h)
	}
}

func equalIDs(x any, ids ...string) bool {
	l, _ := x.([]any)
	if len(l) != len(ids) {
		return false
	}
	for i := range l {
		if l[i] != ids[i] {
			return false
		}
	}
	return true
}

// TestNDFImportBadSnapshotWritesNothing: a snapshot with one bad relation
// is refused before the destination is contacted.
func TestNDFImportBadSnapshotWritesNothing(t *testing.T) {
	s := hotelsSchema(t)
	src := stagetest.NewServer(t, s)
	seedHotels(t, src.Stage, 5)
	dir := t.TempDir()
	if _, err := importapi.Export(t.Context(), localStage("source", src), s, dir, importapi.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "relations", "000002.json")
	if err := os.WriteFile(bad, []byte(relationsFile(
		`[{"_typeName":"Hotel","id":"nope","fieldName":"destination","_position":0},{"_typeName":"Destination","id":"gone","fieldName":"hotels"}]`)), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := stagetest.NewServer(t, s)
	dest := localStage("destination", dst)
	_, _, err := importapi.Import(t.Context(), dir, stagesync.SyncConfig{Dest: dest, DestSchema: s, State: stagesync.NewState("snapshot", dest.Endpoint())})
	if err == nil || !strings.Contains(err.Error(), "000002.json:2: value 0") {
		t.Fatalf("Import of a bad snapshot: err = %v, want one naming relations/000002.json:2", err)
	}
	if c := dst.Stage.Counters(); c.Requests != 0 || c.EntriesWritten != 0 {
		t.Errorf("the destination was contacted: %+v", c)
	}
}

// TestNDFPublishedRelationNeedsPublishedNodes: a PUBLISHED relation whose
// node has only a DRAFT version is refused by the check.
func TestNDFPublishedRelationNeedsPublishedNodes(t *testing.T) {
	p, err := schema.Discover(hotelsSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(goodDestination, goodHotel,
			`{"_typeName":"Hotel","id":"h1","_stage":"PUBLISHED","name":"Tivoli","slug":"tivoli"}`),
		"relations/000001.json": relationsFile(
			`[{"_typeName":"Hotel","id":"h1","fieldName":"destination","_stage":"PUBLISHED","_position":0},{"_typeName":"Destination","id":"d1","fieldName":"hotels"}]`),
	})
	_, err = importapi.Check(dir, p)
	if err == nil || !strings.Contains(err.Error(), `relations/000001.json:2: value 0 (Hotel "h1"): a PUBLISHED relation of Destination "d1"`) {
		t.Errorf("err = %v", err)
	}
}

// TestNDFImportSchemaDiffers: a snapshot of the hotels delta stage into
// master, where Hotel.twitterHandle is required, stops at the sync's
// schema pre-flight, before anything is written.
func TestNDFImportSchemaDiffers(t *testing.T) {
	s := hotelsSchema(t)
	master, err := schema.Load("../examples/hotels/schema/master.graphql")
	if err != nil {
		t.Fatal(err)
	}
	src := stagetest.NewServer(t, s)
	seedHotels(t, src.Stage, 3)
	dir := t.TempDir()
	if _, err := importapi.Export(t.Context(), localStage("source", src), s, dir, importapi.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := stagetest.NewServer(t, master)
	dest := localStage("destination", dst)
	_, _, err = importapi.Import(t.Context(), dir, stagesync.SyncConfig{Dest: dest, DestSchema: master, State: stagesync.NewState("snapshot", dest.Endpoint())})
	var pre *stagesync.PreflightError
	if !errors.As(err, &pre) || !strings.Contains(err.Error(), "twitterHandle") {
		t.Fatalf("err = %v, want a pre-flight error about Hotel.twitterHandle", err)
	}
	if n := dst.Stage.Counters().Mutations; n != 0 {
		t.Errorf("the refused import ran %d mutations", n)
	}
}

// TestNDFImportLegacyExport: NDF files without a manifest (a plain legacy
// export) import against the destination's schema; twice writes once.
func TestNDFImportLegacyExport(t *testing.T) {
	s := hotelsSchema(t)
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(goodDestination, goodHotel,
			`{"_typeName":"Hotel","id":"h2","name":"Avenida","slug":"avenida","stars":4}`),
		"relations/000001.json": relationsFile(
			`[{"_typeName":"Hotel","id":"h1","fieldName":"destination"},{"_typeName":"Destination","id":"d1","fieldName":"hotels"}]`,
			`[{"_typeName":"Destination","id":"d1","fieldName":"hotels"},{"_typeName":"Hotel","id":"h2","fieldName":"destination"}]`),
	})
	dst := stagetest.NewServer(t, s)
	dest := localStage("destination", dst)
	cfg := stagesync.SyncConfig{Dest: dest, State: stagesync.NewState("legacy", dest.Endpoint()), SkipAssets: true} // Hotel.photos: no assets here
	report, _, err := importapi.Import(t.Context(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("import failed: %+v", report.Failures())
	}
	ds := dst.Stage.All("Destination", "DRAFT")
	if len(ds) != 1 || len(ds[0]["hotels"].([]any)) != 2 {
		t.Fatalf("destination: %v", ds)
	}
	written := dst.Stage.Counters().EntriesWritten
	if _, plan, err := importapi.Import(t.Context(), dir, cfg); err != nil || plan.Writes() || dst.Stage.Counters().EntriesWritten != written {
		t.Errorf("second import: err %v, plan %+v", err, plan.Models())
	}
}

// TestNDFRelationPositions: one-sided pairs land at their _position, in
// whatever order the file lists them.
func TestNDFRelationPositions(t *testing.T) {
	s := hotelsSchema(t)
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(goodDestination, goodHotel,
			`{"_typeName":"Hotel","id":"h2","name":"Avenida","slug":"avenida"}`,
			`{"_typeName":"Hotel","id":"h3","name":"Lapa","slug":"lapa"}`),
		"relations/000001.json": relationsFile(
			`[{"_typeName":"Destination","id":"d1","fieldName":"hotels","_position":2},{"_typeName":"Hotel","id":"h3","fieldName":"destination"}]`,
			`[{"_typeName":"Destination","id":"d1","fieldName":"hotels","_position":0},{"_typeName":"Hotel","id":"h1","fieldName":"destination"}]`,
			`[{"_typeName":"Destination","id":"d1","fieldName":"hotels","_position":1},{"_typeName":"Hotel","id":"h2","fieldName":"destination"}]`),
	})
	st, err := stagetest.NewStage(s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := importapi.Load(t.Context(), dir, st); err != nil {
		t.Fatal(err)
	}
	d, _ := st.Get("Destination", "d1", "DRAFT")
	if !equalIDs(d["hotels"], "h1", "h2", "h3") {
		t.Errorf("d1.hotels = %v, want [h1 h2 h3]", d["hotels"])
	}
}
