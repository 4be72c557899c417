package stagetest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/stagesync/stagesync/schema"
	"github.com/stagesync/stagesync/stagesync/stagetest"
)

// A project with two environments, and the Management API query that
// lists them with their content-API endpoints.
func ExampleNewProject() {
	sdl, err := schema.SynthesizeDescription([]byte("models:\n  Hotel:\n    name: String! unique\n"))
	if err != nil {
		log.Fatal(err)
	}
	s, err := schema.LoadString("hotels.graphql", sdl)
	if err != nil {
		log.Fatal(err)
	}
	p := stagetest.NewProject(stagetest.ProjectConfig{ID: "hotels", ManagementToken: "mgmt"})
	defer p.Close()
	for _, env := range []string{"master", "dev"} {
		st, err := stagetest.NewStage(s)
		if err != nil {
			log.Fatal(err)
		}
		if err := p.AddEnvironment(env, st); err != nil {
			log.Fatal(err)
		}
	}
	srv := httptest.NewServer(p)
	defer srv.Close()

	req, err := http.NewRequest(http.MethodPost, srv.URL+stagetest.ManagementPath, strings.NewReader(
		`{"query": "{ viewer { ... on TokenViewer { project { id environments { name endpoint } } } } }"}`))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer mgmt")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.ReplaceAll(string(body), srv.URL, "http://HOST"))
	// Output: {"data":{"viewer":{"project":{"id":"hotels","environments":[{"name":"master","endpoint":"http://HOST/content/hotels/master"},{"name":"dev","endpoint":"http://HOST/content/hotels/dev"}]}}}}
}
