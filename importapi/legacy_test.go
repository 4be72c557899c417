package importapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stagesync/stagesync/importapi"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// relationIDs returns every DRAFT relation of the hotels stage as
// "Model id.field -> target", one line per link (duplicates kept).
func relationIDs(st *stagetest.Stage) []string {
	var out []string
	for _, m := range []struct{ model, field string }{{"Destination", "hotels"}, {"Hotel", "destination"}, {"Hotel", "reviews"}, {"Review", "hotel"}} {
		for _, e := range st.All(m.model, "DRAFT") {
			switch x := e[m.field].(type) {
			case string:
				out = append(out, m.model+" "+e["id"].(string)+"."+m.field+" -> "+x)
			case []any:
				for _, t := range x {
					out = append(out, m.model+" "+e["id"].(string)+"."+m.field+" -> "+t.(string))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestLegacyEmulatorDuplicatesRelations: like the legacy platform, the
// emulator's /import links a relation imported twice twice.
func TestLegacyEmulatorDuplicatesRelations(t *testing.T) {
	s := hotelsSchema(t)
	dst := stagetest.NewServer(t, s)
	c := importapi.NewClient(dst.URL, dst.Token, nil)
	ctx := t.Context()
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(goodDestination, goodHotel),
		"relations/000001.json": relationsFile(
			`[{"_typeName":"Hotel","id":"h1","fieldName":"destination"},{"_typeName":"Destination","id":"d1","fieldName":"hotels"}]`),
	})
	for range 2 {
		for _, vt := range importapi.ValueTypes {
			res, err := c.Import(ctx, vt, importapi.ReadDir(dir, vt))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) > 0 {
				t.Fatalf("%s: %v", vt, res.Failures)
			}
		}
	}
	d, _ := dst.Stage.Get("Destination", "d1", "DRAFT")
	if !equalIDs(d["hotels"], "h1", "h1") {
		t.Errorf("after importing the relation twice, d1.hotels = %v, want [h1 h1] (the legacy failure mode)", d["hotels"])
	}
}

// TestLegacyRelationCopy is the seed example's relation copy: the nodes
// and relations of a stage exported through /export and imported into
// another stage through /import, twice; ImportSnapshot leaves out what
// the destination holds, so no relation is duplicated.
func TestLegacyRelationCopy(t *testing.T) {
	s := hotelsSchema(t)
	src := stagetest.NewServer(t, s)
	seedHotels(t, src.Stage, 12)
	dst := stagetest.NewServer(t, s)
	ctx := t.Context()

	from := importapi.NewClient(src.URL, src.Token, nil)
	dir := t.TempDir()
	files, err := from.ExportDir(ctx, dir, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Errorf("export cut %d files at 4 KB, want several", len(files))
	}
	to := importapi.NewClient(dst.URL, dst.Token, nil)
	to.MaxRequestBytes = 3 << 10
	want := relationIDs(src.Stage)
	if len(want) == 0 {
		t.Fatal("the source has no relations")
	}
	for run := 1; run <= 2; run++ {
		res, err := to.ImportSnapshot(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Failures) > 0 {
			t.Fatalf("run %d: %v", run, res.Failures)
		}
		if got := relationIDs(dst.Stage); !slices.Equal(got, want) {
			t.Fatalf("run %d: destination relations differ from the source's:\n got %d: %v\nwant %d: %v", run, len(got), got, len(want), want)
		}
		if run == 2 && res.Skipped == 0 {
			t.Errorf("run 2 skipped nothing: %+v", res)
		}
		if run == 1 && res.Requests < 3 {
			t.Errorf("run 1 sent %d requests under a 3 KB cap, want several", res.Requests)
		}
	}
}

// TestLegacyImportFailures: the stage answers [{index, message}] for the
// values it refuses; the client names their file, line and index.
func TestLegacyImportFailures(t *testing.T) {
	s := hotelsSchema(t)
	dst := stagetest.NewServer(t, s)
	dir := writeNDF(t, map[string]string{
		"nodes/000001.json": nodesFile(goodDestination, `{"_typeName":"Hotle","id":"x1"}`, goodHotel),
	})
	c := importapi.NewClient(dst.URL, dst.Token, nil)
	res, err := c.Import(t.Context(), importapi.Nodes, importapi.ReadDir(dir, importapi.Nodes))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Value.Index != 1 || res.Failures[0].Value.Line != 3 ||
		!strings.Contains(res.Failures[0].Message, `unknown _typeName "Hotle"`) {
		t.Fatalf("failures = %+v, want one for value 1 on line 3", res.Failures)
	}
	if _, ok := dst.Stage.Get("Hotel", "h1", "DRAFT"); !ok {
		t.Error("the good values after the failing one were not imported")
	}
}

// TestLegacyAuth: /import needs the full token; the read-only token gets
// 403 and no token 401; the token never shows in errors.
func TestLegacyAuth(t *testing.T) {
	s := hotelsSchema(t)
	dst := stagetest.NewServer(t, s)
	dir := writeNDF(t, map[string]string{"nodes/000001.json": nodesFile(goodDestination)})
	for _, tc := range []struct {
		token  string
		status int
	}{{dst.ReadToken, http.StatusForbidden}, {"", http.StatusUnauthorized}, {"wrong-token-value", http.StatusUnauthorized}} {
		c := importapi.NewClient(dst.URL, tc.token, nil)
		_, err := c.Import(t.Context(), importapi.Nodes, importapi.ReadDir(dir, importapi.Nodes))
		var ae *importapi.APIError
		if !asAPIError(err, &ae) || ae.Status != tc.status {
			t.Errorf("token %q: err = %v, want HTTP %d", tc.token, err, tc.status)
		}
		if tc.token != "" && err != nil && strings.Contains(err.Error(), tc.token) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	t.Setenv("NDF_TEST_TOKEN", "")
	if _, err := importapi.TokenFromEnv("NDF_TEST_TOKEN"); err == nil || !strings.Contains(err.Error(), "NDF_TEST_TOKEN") {
		t.Errorf("TokenFromEnv of an empty variable: %v", err)
	}
}

func asAPIError(err error, target **importapi.APIError) bool {
	for err != nil {
		if ae, ok := err.(*importapi.APIError); ok {
			*target = ae
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestLegacyExportCursor: the export comes in chunks, and the cursor ends
// at -1 everywhere.
func TestLegacyExportCursor(t *testing.T) {
	s := hotelsSchema(t)
	src := stagetest.NewServer(t, s)
	seedHotels(t, src.Stage, 5)
	c := importapi.NewClient(src.URL, src.Token, nil)
	n := 0
	for raw, err := range c.Export(t.Context(), importapi.Nodes) {
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil || m["_typeName"] == nil {
			t.Fatalf("export element %s is not a node", raw)
		}
		n++
	}
	if want := len(src.Stage.All("Destination", "DRAFT")) + len(src.Stage.All("Hotel", "DRAFT")) + len(src.Stage.All("Review", "DRAFT")); n != want {
		t.Errorf("exported %d nodes, want %d", n, want)
	}
	elems, next, full, err := src.Stage.Export("nodes", stagetest.LegacyCursor{}, 600)
	if err != nil || !full || len(elems) == 0 || next == (stagetest.LegacyCursor{Table: -1, Row: -1, Field: -1, Array: -1}) {
		t.Errorf("a 600-byte chunk: %d elements, next %+v, full %v, err %v; want a full chunk and a cursor to go on from", len(elems), next, full, err)
	}
}

// TestLegacyHardCap: an import request over the legacy hard cap (10 MB)
// gets 413, whatever it holds.
func TestLegacyHardCap(t *testing.T) {
	dst := stagetest.NewServer(t, hotelsSchema(t))
	body := `{"valueType":"nodes","values":[{"_typeName":"Hotel","id":"h1","name":"` + strings.Repeat("x", stagetest.LegacyMaxImport) + `"}]}`
	resp, err := dst.Client().Post(dst.URL+"/import", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}
