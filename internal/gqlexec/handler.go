package gqlexec

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// maxRequestBytes bounds the request bodies Handler reads.
const maxRequestBytes = 32 << 20

// Handler serves e over HTTP: POST with a JSON body {query, variables,
// operationName}, answered with the JSON response and status 200. A body
// that is not a JSON request gets 400 with a GraphQL error body; other
// methods get 405.
func Handler(e *Executor) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeResponse(w, http.StatusMethodNotAllowed, errorResponse(gqlerror.List{gqlerror.Errorf("only POST is supported")}))
			return
		}
		req, err := DecodeRequest(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		if err != nil {
			writeResponse(w, http.StatusBadRequest, errorResponse(gqlerror.List{gqlerror.Errorf("%s", err.Error())}))
			return
		}
		writeResponse(w, http.StatusOK, e.Execute(r.Context(), req))
	})
}

// DecodeRequest reads a JSON request body. It fails on malformed JSON, on
// trailing data and on a missing query.
func DecodeRequest(body io.Reader) (Request, error) {
	var req Request
	dec := json.NewDecoder(body)
	if err := dec.Decode(&req); err != nil {
		return Request{}, &RequestError{Reason: "body is not a JSON GraphQL request: " + err.Error()}
	}
	if dec.More() {
		return Request{}, &RequestError{Reason: "body is not a JSON GraphQL request: trailing data"}
	}
	if req.Query == "" {
		return Request{}, &RequestError{Reason: "request has no query"}
	}
	return req, nil
}

// RequestError is a request that cannot be decoded.
type RequestError struct{ Reason string }

func (e *RequestError) Error() string { return e.Reason }

// WriteResponse writes resp as JSON with the given status.
func WriteResponse(w http.ResponseWriter, status int, resp *Response) {
	writeResponse(w, status, resp)
}

func writeResponse(w http.ResponseWriter, status int, resp *Response) {
	var b bytes.Buffer
	b.Grow(len(resp.Data) + 64)
	if err := EncodeResponse(&b, resp); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"data":null,"errors":[{"message":"cannot encode response"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// EncodeResponse appends the JSON of resp to b, copying Data as it is.
func EncodeResponse(b *bytes.Buffer, resp *Response) error {
	b.WriteString(`{"data":`)
	if len(resp.Data) == 0 {
		b.WriteString("null")
	} else {
		b.Write(resp.Data)
	}
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return err
		}
		b.WriteString(`,"errors":`)
		b.Write(errs)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return err
		}
		b.WriteString(`,"extensions":`)
		b.Write(ext)
	}
	b.WriteByte('}')
	return nil
}
