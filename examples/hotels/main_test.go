package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagesync/stagesync/stagesync"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// clearStageEnv makes the example run against emulated stages, whatever
// the environment of the test says.
func clearStageEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{envSourceEndpoint, envSourceToken, envDestEndpoint, envDestToken,
		envTutorialSourceToken, envTutorialDestToken} {
		t.Setenv(k, "")
	}
}

// noEnvFile is a -env flag naming a file that does not exist.
func noEnvFile(t *testing.T) []string {
	return []string{"-env", filepath.Join(t.TempDir(), "absent.env")}
}

// TestRun runs the main job as `go run ./examples/hotels` does.
func TestRun(t *testing.T) {
	clearStageEnv(t)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), noEnvFile(t), &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, want := range []string{
		"seeded delta: 20 destinations, 150 hotels, 300 reviews",
		"needs-transform Hotel.twitterHandle [required-in-destination]",
		"handled: transformHotel",
		"plan (a dry run",
		"write     Hotel        150/150",
		"publish   Review       90/90",
		"assets    Asset        60/60, ",
		"checksums: 60 of 60 of master's photos have the SHA-256 of delta's file of the same name",
		"second sync: 530 entries read, 530 unchanged, nothing written (0 mutations on master; 0 files, 0 bytes uploaded to its bucket)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
	// The report table: every entry created, none failed.
	for _, row := range []string{
		`Asset\s+60\s+60\s+0\s+0\s+0\s+60\s+0`,
		`Review\s+300\s+300\s+0\s+0\s+0\s+90\s+0`,
		`Hotel\s+150\s+150\s+0\s+0\s+0\s+45\s+0`,
		`Destination\s+20\s+20\s+0\s+0\s+0\s+7\s+0`,
	} {
		if !regexp.MustCompile(row).MatchString(out.String()) {
			t.Errorf("report has no row %s:\n%s", row, &out)
		}
	}
	// The asset phase: the bytes the sync counted are those master's
	// bucket stored, one file per photo.
	m := regexp.MustCompile(`assets: 60 of 60 assets synced, (\d+) bytes of files copied; master's Filestack bucket stored 60 files, (\d+) bytes`).FindStringSubmatch(out.String())
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("no assets line with the same bytes copied and stored: %q\n%s", m, &out)
	}
	if errOut.Len() > 0 {
		t.Errorf("stderr: %s", &errOut)
	}
}

// TestAssets checks the photos after the main job: every file delta's
// assets have is in master's bucket with the same SHA-256, the bytes the
// sync counted are the bytes stored and the bytes seeded, master's hotels
// link master's copies, and the second sync uploads nothing.
func TestAssets(t *testing.T) {
	clearStageEnv(t)
	ctx := t.Context()
	var out bytes.Buffer
	j, err := newJob(ctx, options{quiet: true, rate: 5}, stagesEnv{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var seeded int64
	for _, f := range j.emu.delta.AssetBucket().Files() {
		seeded += f.Size
	}
	if code, err := j.Run(ctx); code != exitOK {
		t.Fatalf("exit %d: %v\n%s", code, err, &out)
	}
	first, second := j.copied[0], j.copied[1]
	if first.assets != seedPhotos || first.total != seedPhotos || first.stored != seedPhotos {
		t.Errorf("first sync: %+v, want %d assets synced and files stored", first, seedPhotos)
	}
	if first.bytes != seeded || first.storedBytes != seeded {
		t.Errorf("first sync: %d bytes counted, %d stored; delta's files have %d", first.bytes, first.storedBytes, seeded)
	}
	if second.bytes != 0 || second.stored != 0 || second.storedBytes != 0 {
		t.Errorf("second sync: %+v, want no file copied", second)
	}
	same, total, diffs := j.emu.compareFiles()
	if same != seedPhotos || total != seedPhotos || len(diffs) > 0 {
		t.Errorf("checksums: %d of %d the same, want %d: %v", same, total, seedPhotos, diffs)
	}
	if n := len(j.emu.master.AssetBucket().Files()); n != seedPhotos {
		t.Errorf("master's bucket has %d files, want %d", n, seedPhotos)
	}
	// Each master hotel links the copies of its delta hotel's photos.
	fileOf := map[string]string{} // asset id → its file's SHA-256, both stages
	for _, st := range []*stagetest.Stage{j.emu.delta, j.emu.master} {
		for _, a := range st.All("Asset", "DRAFT") {
			f, _ := j.emu.files.File(a["handle"].(string))
			fileOf[a["id"].(string)] = f.SHA256
		}
	}
	files := func(h map[string]any) []string {
		var out []string
		ids, _ := h["photos"].([]any) // nil: no photos
		for _, id := range ids {
			out = append(out, fileOf[id.(string)])
		}
		return out
	}
	linked := 0
	for _, h := range j.emu.delta.All("Hotel", "DRAFT") {
		dest, ok := j.state.DestID("Hotel", h["id"].(string))
		if !ok {
			t.Fatalf("hotel %s is not in the identity map", h["id"])
		}
		mh, ok := j.emu.master.Get("Hotel", dest, "DRAFT")
		if !ok {
			t.Fatalf("master has no hotel %s", dest)
		}
		if want, got := files(h), files(mh); !slices.Equal(want, got) {
			t.Errorf("hotel %s: master links files %v, delta %v", h["name"], got, want)
		}
		linked += len(files(h))
	}
	if linked == 0 {
		t.Error("no hotel has photos")
	}
}

// TestSyncEqualsSource checks master after the main job: it holds what
// delta holds (through the identity map: every field, relation, locale and
// publish state), but for the Twitter handles, which are what the
// transform makes of delta's; a second sync writes nothing.
func TestSyncEqualsSource(t *testing.T) {
	clearStageEnv(t)
	ctx := t.Context()
	var out bytes.Buffer
	j, err := newJob(ctx, options{quiet: true, rate: 5}, stagesEnv{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if code, err := j.Run(ctx); code != exitOK {
		t.Fatalf("exit %d: %v\n%s", code, err, &out)
	}
	want := map[string]int{"Asset": seedPhotos, "Destination": seedDestinations, "Hotel": seedHotels, "Review": seedReviews}
	for _, m := range j.first.Models() {
		if m.Read != want[m.Name] || m.Created != m.Read || m.Failed != 0 {
			t.Errorf("first sync: %+v, want %d read and created", m, want[m.Name])
		}
	}
	for _, m := range j.second.Models() {
		if m.Unchanged != want[m.Name] || m.Created+m.Updated+m.Published+m.Failed != 0 {
			t.Errorf("second sync: %+v, want all %d unchanged", m, want[m.Name])
		}
	}
	if j.secondMutations != 0 {
		t.Errorf("the second sync sent %d mutations to master, want 0", j.secondMutations)
	}

	diffs, err := stagesync.Compare(ctx, stagesync.CompareConfig{
		Source: j.source, Dest: j.dest,
		SourceSchema: j.sourceSchema, DestSchema: j.destSchema,
		Models: []string{"Destination", "Hotel", "Review"},
		State:  j.state,
	})
	if err != nil {
		t.Fatal(err)
	}
	handles := 0
	for _, d := range diffs {
		if d.Model == "Hotel" && (d.Field == "twitterHandle" || d.Field == "published:twitterHandle") {
			var src *string
			if err := json.Unmarshal([]byte(d.Want), &src); err != nil {
				t.Fatal(err)
			}
			if w, _ := json.Marshal(normalizeTwitterHandle(src)); d.Got != string(w) {
				t.Errorf("%s: want the transform's %s", d, w)
			}
			handles++
			continue
		}
		t.Errorf("difference: %s", d)
	}
	if handles == 0 {
		t.Error("no Twitter handle was changed in flight")
	}
	for _, stage := range []string{"DRAFT", "PUBLISHED"} {
		for _, h := range j.emu.master.All("Hotel", stage) {
			if s, _ := h["twitterHandle"].(string); !twitterHandleRE.MatchString(s) {
				t.Errorf("master hotel %s (%s) has twitterHandle %v", h["id"], stage, h["twitterHandle"])
			}
		}
	}
}

// TestPreflightRefusesWithoutTransform is the required field gotcha: with
// nobody handling Hotel.twitterHandle, the sync refuses to start and
// writes nothing.
func TestPreflightRefusesWithoutTransform(t *testing.T) {
	clearStageEnv(t)
	ctx := t.Context()
	j, err := newJob(ctx, options{rate: 5}, stagesEnv{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	cfg := j.config()
	cfg.Handled = nil
	_, _, err = stagesync.Sync(ctx, cfg)
	var pre *stagesync.PreflightError
	if !errors.As(err, &pre) || len(pre.Problems) != 1 || pre.Problems[0].Model != "Hotel" || pre.Problems[0].Field != "twitterHandle" {
		t.Fatalf("Sync without the handled change: %v, want a pre-flight refusal for Hotel.twitterHandle", err)
	}
	if code, _ := syncError(err); code != exitBlocked {
		t.Errorf("exit code %d, want %d", code, exitBlocked)
	}
	if n := j.emu.master.Counters().Mutations; n != 0 {
		t.Errorf("%d mutations on master, want 0", n)
	}
}

func TestDryRun(t *testing.T) {
	clearStageEnv(t)
	ctx := t.Context()
	var out bytes.Buffer
	j, err := newJob(ctx, options{dryRun: true, rate: 5}, stagesEnv{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if code, err := j.Run(ctx); code != exitOK {
		t.Fatalf("exit %d: %v", code, err)
	}
	if n := j.emu.master.Counters().Mutations; n != 0 {
		t.Errorf("a dry run sent %d mutations to master", n)
	}
	if !regexp.MustCompile(`Hotel\s+150\s+0\s+0\s+45`).MatchString(out.String()) || strings.Contains(out.String(), "report:") {
		t.Errorf("output:\n%s", &out)
	}
}

// TestRunRealStages points the example at stages through a .env file, with
// the tutorial's token names, as it would point at Hygraph: nothing is
// seeded, and a second run with the state file writes nothing.
func TestRunRealStages(t *testing.T) {
	clearStageEnv(t)
	ctx := t.Context()
	emu, err := startEmulation("127.0.0.1:0", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	if _, err := seedDelta(ctx, emu.delta); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	dotenv := fmt.Sprintf("# the stages\n%s=%s\nGCMS_PAT_SOURCE=%s\n%s=%s\nGCMS_PAT_DEST=%s\n",
		envSourceEndpoint, emu.deltaURL, emu.deltaToken, envDestEndpoint, emu.masterURL, emu.masterToken)
	if err := os.WriteFile(envFile, []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	args := []string{"-env", envFile, "-state", state, "-quiet", "-rate", "10000"}

	var out, errOut bytes.Buffer
	if code := run(ctx, args, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, &out, &errOut)
	}
	if strings.Contains(out.String(), "seeded") || !strings.Contains(out.String(), emu.deltaURL) {
		t.Errorf("output:\n%s", &out)
	}
	if n := len(emu.master.All("Hotel", "DRAFT")); n != seedHotels {
		t.Errorf("master has %d hotels, want %d", n, seedHotels)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("no state file: %v", err)
	}
	if strings.Contains(out.String(), emu.deltaToken) || strings.Contains(out.String(), emu.masterToken) {
		t.Error("the output shows a token")
	}

	before := emu.master.Counters().Mutations
	out.Reset()
	if code := run(ctx, args, &out, &errOut); code != exitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, &out, &errOut)
	}
	if n := emu.master.Counters().Mutations - before; n != 0 {
		t.Errorf("second run: %d mutations, want 0", n)
	}
}

func TestRunUsage(t *testing.T) {
	clearStageEnv(t)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"argument", []string{"extra"}, nil, "unexpected arguments"},
		{"bad rate", []string{"-rate", "0"}, nil, "-rate 0"},
		{"one endpoint", nil, map[string]string{envSourceEndpoint: "http://127.0.0.1:1/delta"}, envDestEndpoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			code := run(t.Context(), append(noEnvFile(t), tc.args...), &out, &errOut)
			if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, &errOut, exitUsage, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe serves the emulated stages, reads the seeded delta through
// the printed endpoint and stops on cancellation.
func TestServe(t *testing.T) {
	clearStageEnv(t)
	t.Setenv(envSourceToken, "delta-dev")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append(noEnvFile(t), "-serve", "127.0.0.1:0"), &out, io.Discard) }()

	endpoint := regexp.MustCompile(envSourceEndpoint + `=(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), envDestToken+"=") {
		if time.Now().After(deadline) {
			t.Fatalf("no endpoints printed:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := endpoint.FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), envSourceToken+"=delta-dev") {
		t.Fatalf("output:\n%s", out.String())
	}
	var got struct {
		HotelsConnection struct{ Aggregate struct{ Count int } }
	}
	stage := stagesync.NewStage("delta", m[1], "delta-dev")
	if err := stage.Do(ctx, `{ hotelsConnection(stage: DRAFT) { aggregate { count } } }`, nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.HotelsConnection.Aggregate.Count != seedHotels {
		t.Errorf("delta serves %d hotels, want %d", got.HotelsConnection.Aggregate.Count, seedHotels)
	}
	cancel()
	if code := <-done; code != exitOK || !strings.Contains(out.String(), "stopped;") {
		t.Errorf("exit %d, output:\n%s", code, out.String())
	}
}

// The seeded content is what the walkthrough and the fixtures count on.
func TestSeedDelta(t *testing.T) {
	emu, err := startEmulation("127.0.0.1:0", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	sum, err := seedDelta(t.Context(), emu.delta)
	if err != nil {
		t.Fatal(err)
	}
	total := sum.destinations + sum.hotels + sum.reviews
	if share := float64(sum.published) / float64(total); share < 0.25 || share > 0.35 {
		t.Errorf("%d of %d entries published, want about 30%%", sum.published, total)
	}
	if sum.publishedDiffers == 0 || sum.localized == 0 || sum.noHandle == 0 || sum.oddHandle == 0 {
		t.Errorf("seed lacks a case: %s", sum)
	}
	// The same content, and ids, on every run.
	again, err := startEmulation("127.0.0.1:0", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := seedDelta(t.Context(), again.delta); err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"Destination", "Hotel", "Review"} {
		a, b := emu.delta.All(model, "DRAFT"), again.delta.All(model, "DRAFT")
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: two seeds differ", model)
		}
	}
	names := map[string]bool{}
	for _, h := range emu.delta.All("Hotel", "DRAFT") {
		names[h["name"].(string)] = true
	}
	if len(names) != seedHotels || !names["Grand Harbour Lisbon"] {
		t.Errorf("%d distinct hotel names", len(names))
	}
}
