package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stagesync/stagesync/internal/emulator/gate"
	"github.com/stagesync/stagesync/internal/emulator/store"
	"github.com/stagesync/stagesync/schema"
)

const (
	// persistHelperEnv names the data directory of the helper process;
	// TestHelperServe does nothing without it.
	persistHelperEnv = "STAGETEST_HELPER_SERVE_DIR"
	persistFixture   = synthTestdata + "/blog.graphql" // models Post, Project, Tag
	persistToken     = "persist-token"
)

// TestHelperServe is not a test: TestAcknowledgedWritesSurviveKill runs the
// test binary again as a child process that serves a stage persisted in
// $STAGETEST_HELPER_SERVE_DIR, prints "endpoint: URL" and serves until it
// is killed or its stdin is closed.
func TestHelperServe(t *testing.T) {
	dir := os.Getenv(persistHelperEnv)
	if dir == "" {
		t.Skip("helper process of TestAcknowledgedWritesSurviveKill")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	s, err := schema.Load(persistFixture)
	if err != nil {
		fail(err)
	}
	b, err := store.OpenBolt(dir)
	if err != nil {
		fail(err)
	}
	st, err := NewStage(s, WithBackend(b), WithLimits(gate.Limits{Token: persistToken}), WithMaxPage(100_000))
	if err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	// Never outlive the parent: it holds our stdin open.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("endpoint: http://%s/\n", ln.Addr())
	fail(http.Serve(ln, st))
}

// persistChild is a running TestHelperServe process.
type persistChild struct {
	cmd      *exec.Cmd
	stdin    io.Closer
	endpoint string
	stderr   *bytes.Buffer
}

func startPersistChild(t *testing.T, dir string) *persistChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$", "-test.count=1")
	cmd.Env = append(os.Environ(), persistHelperEnv+"="+dir)
	c := &persistChild{cmd: cmd, stderr: new(bytes.Buffer)}
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.kill)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if ep, ok := strings.CutPrefix(sc.Text(), "endpoint: "); ok {
			c.endpoint = ep
			// Keep draining stdout so the child never blocks on it.
			go io.Copy(io.Discard, stdout)
			return c
		}
	}
	c.kill()
	t.Fatalf("helper exited before printing its endpoint; stderr:\n%s", c.stderr)
	return nil
}

// kill sends SIGKILL and waits for the process to be gone, so its lock on
// the data directory is released. Killing twice is harmless.
func (c *persistChild) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Kill()
	c.stdin.Close()
	c.cmd.Wait()
}

// persistPost sends one GraphQL request; a transport error is returned, a
// GraphQL error is not an error here.
func persistPost(client *http.Client, endpoint, query string, vars map[string]any, out any) (int, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+persistToken)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err // the response was cut off: not acknowledged
	}
	if err := json.Unmarshal(b, out); err != nil {
		return res.StatusCode, fmt.Errorf("status %d, body %q: %w", res.StatusCode, b, err)
	}
	return res.StatusCode, nil
}

type persistResponse struct {
	Data struct {
		CreateTag *struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"createTag"`
		Tags []struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"tags"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// TestAcknowledgedWritesSurviveKill: writes a stage has acknowledged are
// on disk. Clients create entries concurrently against a stage with a bolt
// backend in a child process; once enough creates are acknowledged the child
// is killed with SIGKILL while other creates are in flight. The store must
// then open and check cleanly, and a new child on the same directory must
// serve every acknowledged entry. Twice, so the second round starts from a
// store that survived a kill.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	if _, err := os.Stat(persistFixture); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	const (
		rounds     = 2
		workers    = 6
		killAfter  = 60  // acknowledged creates per round before the kill
		maxPerWork = 500 // bound on attempts if the kill never comes
	)
	dir := t.TempDir()
	acked := map[string]string{} // id → slug, over all rounds

	for round := range rounds {
		child := startPersistChild(t, dir)
		client := &http.Client{Transport: &http.Transport{}}

		var (
			mu       sync.Mutex
			inRound  int
			killOnce sync.Once
			wg       sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				for i := range maxPerWork {
					slug := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					var res persistResponse
					status, err := persistPost(client, child.endpoint,
						`mutation($d: TagCreateInput!) { createTag(data: $d) { id slug } }`,
						map[string]any{"d": map[string]any{"slug": slug, "title": "Title " + slug}}, &res)
					if err != nil {
						return // the child is gone
					}
					if status != http.StatusOK || len(res.Errors) > 0 || res.Data.CreateTag == nil || res.Data.CreateTag.ID == "" {
						t.Errorf("create %s: status %d, response %+v", slug, status, res)
						killOnce.Do(child.kill)
						return
					}
					mu.Lock()
					acked[res.Data.CreateTag.ID] = slug
					inRound++
					kill := inRound >= killAfter
					mu.Unlock()
					if kill {
						// Other workers have creates in flight.
						killOnce.Do(child.kill)
					}
				}
			})
		}
		wg.Wait()
		killOnce.Do(child.kill)
		client.CloseIdleConnections()
		if t.Failed() {
			t.Fatalf("round %d: child stderr:\n%s", round, child.stderr)
		}
		if inRound < killAfter {
			t.Fatalf("round %d: only %d creates acknowledged before the child died; stderr:\n%s", round, inRound, child.stderr)
		}
		t.Logf("round %d: killed after %d acknowledged creates", round, inRound)

		// The store opens and passes bbolt's consistency check.
		b, err := store.OpenBolt(dir)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		if err := store.CheckBolt(b); err != nil {
			t.Fatalf("round %d: check after kill: %v", round, err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}

		// A new stage on the same directory serves every acknowledged write.
		child = startPersistChild(t, dir)
		var res persistResponse
		status, err := persistPost(client, child.endpoint,
			`{ tags(stage: DRAFT, first: 100000) { id slug } }`, nil, &res)
		if err != nil || status != http.StatusOK || len(res.Errors) > 0 {
			t.Fatalf("round %d: read back: status %d, %v, errors %+v; stderr:\n%s", round, status, err, res.Errors, child.stderr)
		}
		found := map[string]string{}
		for _, tag := range res.Data.Tags {
			found[tag.ID] = tag.Slug
		}
		missing := 0
		for id, slug := range acked {
			if got, ok := found[id]; !ok || got != slug {
				missing++
				if missing <= 5 {
					t.Errorf("round %d: acknowledged tag %s (%s) read back as %q, present %v", round, id, slug, got, ok)
				}
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged creates lost", round, missing, len(acked))
		}
		t.Logf("round %d: %d acknowledged tags all present (%d stored)", round, len(acked), len(found))
		child.kill()
	}
}
