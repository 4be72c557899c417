package gate_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/stagesync/stagesync/internal/emulator/gate"
)

// A gate in front of a handler: without the bearer token a request gets
// Hygraph's 401, with it the handler answers.
func Example() {
	var c gate.Counters
	h := gate.New(gate.Limits{Token: "secret", Rate: 10}, &c, nil).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":{}}`)
	}))
	for _, token := range []string{"", "secret"} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"query":"{ posts { id } }"}`))
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code)
	}
	s := c.Snapshot()
	fmt.Println(s.Requests, s.Rejected, s.QueryOperations)
	// Output:
	// 401
	// 200
	// 2 1 1
}
