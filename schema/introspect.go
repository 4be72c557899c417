package schema

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// DefaultIntrospectTimeout bounds an introspection request when
// IntrospectOptions.Timeout is zero.
const DefaultIntrospectTimeout = 60 * time.Second

// maxIntrospectionBytes bounds the response body Introspect reads.
const maxIntrospectionBytes = 256 << 20

// IntrospectOptions configures Introspect.
type IntrospectOptions struct {
	// Token is sent as "Authorization: Bearer <Token>" when not empty. It
	// never appears in errors.
	Token string
	// HTTPClient sends the request; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Timeout bounds the whole request; DefaultIntrospectTimeout when zero.
	Timeout time.Duration
	// Header holds extra request headers.
	Header http.Header
}

// IntrospectionQuery is the classic introspection query (graphql-js's
// getIntrospectionQuery with its default options). It does not ask for
// specifiedByURL or isRepeatable, which some servers do not support.
const IntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
              }
            }
          }
        }
      }
    }
  }
}`

// IntrospectError is returned by Introspect and IntrospectSDL. Its message
// names the endpoint and, for HTTP failures, the status; the token is
// redacted from everything it holds.
type IntrospectError struct {
	// Endpoint is the URL introspected.
	Endpoint string
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Timeout is set when the request ran out of time.
	Timeout bool
	// Reason says what went wrong, e.g. "HTTP 401 Unauthorized: <body>".
	Reason string
	// Err is the cause: context.DeadlineExceeded or context.Canceled, a
	// gqlerror.List for GraphQL errors, or an error carrying Reason.
	Err error
}

func (e *IntrospectError) Error() string {
	return "schema: introspect " + e.Endpoint + ": " + e.Reason
}

// Unwrap returns the cause.
func (e *IntrospectError) Unwrap() error { return e.Err }

// Introspect asks a GraphQL endpoint for its schema with the classic
// introspection query and returns it loaded, as schema.Load would load the
// SDL IntrospectSDL returns.
func Introspect(ctx context.Context, endpoint string, opts IntrospectOptions) (*ast.Schema, error) {
	sdl, err := IntrospectSDL(ctx, endpoint, opts)
	if err != nil {
		return nil, err
	}
	return LoadString("introspection of "+redact(endpoint, opts.Token), sdl)
}

// IntrospectSDL asks a GraphQL endpoint for its schema and returns it as
// SDL (see PrintSDL): every type, field, argument, default value, enum
// value, union member, interface, input field, description and deprecation,
// with the server's custom directive declarations; built-in scalars,
// introspection types and built-in directives are left out. The SDL is
// checked by loading it before it is returned.
func IntrospectSDL(ctx context.Context, endpoint string, opts IntrospectOptions) (string, error) {
	fail := func(status int, reason string, cause error) error {
		reason = redact(reason, opts.Token)
		if cause == nil {
			cause = errors.New(reason)
		}
		return &IntrospectError{
			Endpoint: redact(endpoint, opts.Token), StatusCode: status, Reason: reason, Err: cause,
			Timeout: errors.Is(context.Cause(ctx), errIntrospectTimeout),
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultIntrospectTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errIntrospectTimeout)
	defer cancel()

	body, _ := json.Marshal(map[string]string{"query": IntrospectionQuery, "operationName": "IntrospectionQuery"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fail(0, "bad endpoint: "+err.Error(), nil)
	}
	for k, vs := range opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+opts.Token)
	}
	client := opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fail(0, transportReason(ctx, err, timeout), contextCause(ctx))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxIntrospectionBytes))
	if err != nil {
		return "", fail(res.StatusCode, "reading response: "+transportReason(ctx, err, timeout), contextCause(ctx))
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", fail(res.StatusCode, "HTTP "+res.Status+": "+snippet(data), nil)
	}
	var result struct {
		Data struct {
			Schema *introspectionSchema `json:"__schema"`
		} `json:"data"`
		Errors gqlerror.List `json:"errors"`
	}
	if err := json.Unmarshal(data, &result); err != nil {
		ct := res.Header.Get("Content-Type")
		if ct == "" {
			ct = "no Content-Type"
		}
		return "", fail(res.StatusCode, fmt.Sprintf("response is not JSON (%s): %s", ct, snippet(data)), nil)
	}
	if len(result.Errors) > 0 {
		msgs := make([]string, len(result.Errors))
		for i, e := range result.Errors {
			e.Message = redact(e.Message, opts.Token)
			msgs[i] = e.Message
		}
		return "", fail(res.StatusCode, "GraphQL errors: "+strings.Join(msgs, "; "), result.Errors)
	}
	if result.Data.Schema == nil {
		return "", fail(res.StatusCode, "response has no data.__schema: "+snippet(data), nil)
	}
	sdl, err := result.Data.Schema.checkedSDL()
	if err != nil {
		return "", fail(res.StatusCode, err.Error(), nil)
	}
	return sdl, nil
}

// IntrospectionSDL returns the SDL (see IntrospectSDL) of an answer to
// IntrospectionQuery that was sent some other way: data is the "data"
// member of the response, {"__schema": {...}}. The SDL is checked by
// loading it before it is returned.
func IntrospectionSDL(data []byte) (string, error) {
	var d struct {
		Schema *introspectionSchema `json:"__schema"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return "", fmt.Errorf("schema: introspection result is not JSON: %w", err)
	}
	if d.Schema == nil {
		return "", fmt.Errorf("schema: introspection result has no __schema: %s", snippet(data))
	}
	sdl, err := d.Schema.checkedSDL()
	if err != nil {
		return "", fmt.Errorf("schema: %w", err)
	}
	return sdl, nil
}

// checkedSDL returns the SDL of s, checked by loading it.
func (s *introspectionSchema) checkedSDL() (string, error) {
	sdl, err := s.sdl()
	if err != nil {
		return "", fmt.Errorf("building SDL: %w", err)
	}
	if _, err := LoadString("introspection", sdl); err != nil {
		return "", fmt.Errorf("introspected schema does not load: %w", err)
	}
	return sdl, nil
}

// errIntrospectTimeout is the cause of the context Introspect times out.
var errIntrospectTimeout = errors.New("introspection timeout")

// transportReason describes a failed request, telling our timeout apart
// from the caller's cancellation.
func transportReason(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case errors.Is(context.Cause(ctx), errIntrospectTimeout):
		return fmt.Sprintf("timed out after %s", timeout)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		// *url.Error repeats method and URL; keep the cause.
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// contextCause returns the context error to wrap, or nil.
func contextCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// redact removes token from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[REDACTED]")
}

// snippet returns the start of a response body, whitespace collapsed.
func snippet(b []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty body)"
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// introspectionSchema is the __schema part of an introspection result.
type introspectionSchema struct {
	Description      string                   `json:"description"`
	QueryType        *introspectionName       `json:"queryType"`
	MutationType     *introspectionName       `json:"mutationType"`
	SubscriptionType *introspectionName       `json:"subscriptionType"`
	Types            []introspectionType      `json:"types"`
	Directives       []introspectionDirective `json:"directives"`
}

type introspectionName struct {
	Name string `json:"name"`
}

type introspectionType struct {
	Kind           string               `json:"kind"`
	Name           string               `json:"name"`
	Description    string               `json:"description"`
	SpecifiedByURL string               `json:"specifiedByURL"`
	Fields         []introspectionField `json:"fields"`
	InputFields    []introspectionInput `json:"inputFields"`
	Interfaces     []introspectionRef   `json:"interfaces"`
	EnumValues     []introspectionEnum  `json:"enumValues"`
	PossibleTypes  []introspectionRef   `json:"possibleTypes"`
}

type introspectionField struct {
	Name              string               `json:"name"`
	Description       string               `json:"description"`
	Args              []introspectionInput `json:"args"`
	Type              *introspectionRef    `json:"type"`
	IsDeprecated      bool                 `json:"isDeprecated"`
	DeprecationReason *string              `json:"deprecationReason"`
}

type introspectionInput struct {
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	Type              *introspectionRef `json:"type"`
	DefaultValue      *string           `json:"defaultValue"`
	IsDeprecated      bool              `json:"isDeprecated"`
	DeprecationReason *string           `json:"deprecationReason"`
}

type introspectionEnum struct {
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type introspectionRef struct {
	Kind   string            `json:"kind"`
	Name   string            `json:"name"`
	OfType *introspectionRef `json:"ofType"`
}

type introspectionDirective struct {
	Name         string               `json:"name"`
	Description  string               `json:"description"`
	Locations    []string             `json:"locations"`
	Args         []introspectionInput `json:"args"`
	IsRepeatable bool                 `json:"isRepeatable"`
}

// astType converts a type reference.
func (r *introspectionRef) astType() (*ast.Type, error) {
	if r == nil {
		return nil, errors.New("missing type reference")
	}
	switch r.Kind {
	case "NON_NULL":
		inner, err := r.OfType.astType()
		if err != nil {
			return nil, err
		}
		if inner.NonNull {
			return nil, errors.New("non-null of non-null type")
		}
		inner.NonNull = true
		return inner, nil
	case "LIST":
		inner, err := r.OfType.astType()
		if err != nil {
			return nil, err
		}
		return &ast.Type{Elem: inner}, nil
	}
	if r.Name == "" {
		return nil, fmt.Errorf("type reference of kind %s has no name", r.Kind)
	}
	return &ast.Type{NamedType: r.Name}, nil
}

// builtIns lists the names gqlparser declares itself, which the SDL leaves
// out.
var builtIns = func() (types, directives map[string]bool) {
	doc := validator.PreludeDocument()
	types, directives = map[string]bool{}, map[string]bool{}
	for _, d := range doc.Definitions {
		types[d.Name] = true
	}
	for _, d := range doc.Directives {
		directives[d.Name] = true
	}
	return types, directives
}

// sdl builds the SDL of the introspected schema.
func (s *introspectionSchema) sdl() (string, error) {
	builtinTypes, builtinDirectives := builtIns()
	doc := sdlDocument{description: s.Description}
	if s.QueryType != nil {
		doc.query = s.QueryType.Name
	}
	if s.MutationType != nil {
		doc.mutation = s.MutationType.Name
	}
	if s.SubscriptionType != nil {
		doc.subscription = s.SubscriptionType.Name
	}
	for _, d := range s.Directives {
		if builtinDirectives[d.Name] {
			continue
		}
		def := &ast.DirectiveDefinition{Name: d.Name, Description: d.Description, IsRepeatable: d.IsRepeatable}
		for _, l := range d.Locations {
			def.Locations = append(def.Locations, ast.DirectiveLocation(l))
		}
		args, err := introspectedArgs(d.Args)
		if err != nil {
			return "", fmt.Errorf("directive @%s: %w", d.Name, err)
		}
		def.Arguments = args
		doc.directives = append(doc.directives, def)
	}
	for _, t := range s.Types {
		if builtinTypes[t.Name] || strings.HasPrefix(t.Name, "__") {
			continue
		}
		def, err := t.definition()
		if err != nil {
			return "", fmt.Errorf("type %s: %w", t.Name, err)
		}
		doc.types = append(doc.types, def)
	}
	var b strings.Builder
	p := &sdlPrinter{w: bufio.NewWriter(&b)}
	doc.print(p)
	if err := p.w.Flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (t *introspectionType) definition() (*ast.Definition, error) {
	def := &ast.Definition{Name: t.Name, Description: t.Description, Kind: ast.DefinitionKind(t.Kind)}
	switch def.Kind {
	case ast.Scalar:
		if t.SpecifiedByURL != "" {
			def.Directives = ast.DirectiveList{{
				Name:      "specifiedBy",
				Arguments: ast.ArgumentList{{Name: "url", Value: &ast.Value{Kind: ast.StringValue, Raw: t.SpecifiedByURL}}},
			}}
		}
	case ast.Object, ast.Interface:
		for _, i := range t.Interfaces {
			def.Interfaces = append(def.Interfaces, i.Name)
		}
		for _, f := range t.Fields {
			typ, err := f.Type.astType()
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			args, err := introspectedArgs(f.Args)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			def.Fields = append(def.Fields, &ast.FieldDefinition{
				Name: f.Name, Description: f.Description, Type: typ, Arguments: args,
				Directives: deprecated(f.IsDeprecated, f.DeprecationReason),
			})
		}
	case ast.Union:
		for _, m := range t.PossibleTypes {
			def.Types = append(def.Types, m.Name)
		}
	case ast.Enum:
		for _, v := range t.EnumValues {
			def.EnumValues = append(def.EnumValues, &ast.EnumValueDefinition{
				Name: v.Name, Description: v.Description,
				Directives: deprecated(v.IsDeprecated, v.DeprecationReason),
			})
		}
	case ast.InputObject:
		for _, f := range t.InputFields {
			typ, err := f.Type.astType()
			if err != nil {
				return nil, fmt.Errorf("input field %s: %w", f.Name, err)
			}
			dv, err := parseDefault(f.DefaultValue)
			if err != nil {
				return nil, fmt.Errorf("input field %s: %w", f.Name, err)
			}
			def.Fields = append(def.Fields, &ast.FieldDefinition{
				Name: f.Name, Description: f.Description, Type: typ, DefaultValue: dv,
				Directives: deprecated(f.IsDeprecated, f.DeprecationReason),
			})
		}
	default:
		return nil, fmt.Errorf("unknown kind %q", t.Kind)
	}
	return def, nil
}

func introspectedArgs(in []introspectionInput) (ast.ArgumentDefinitionList, error) {
	var out ast.ArgumentDefinitionList
	for _, a := range in {
		typ, err := a.Type.astType()
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", a.Name, err)
		}
		dv, err := parseDefault(a.DefaultValue)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", a.Name, err)
		}
		out = append(out, &ast.ArgumentDefinition{
			Name: a.Name, Description: a.Description, Type: typ, DefaultValue: dv,
			Directives: deprecated(a.IsDeprecated, a.DeprecationReason),
		})
	}
	return out, nil
}

// deprecated returns the @deprecated directive of a deprecated element.
func deprecated(is bool, reason *string) ast.DirectiveList {
	if !is {
		return nil
	}
	d := &ast.Directive{Name: "deprecated"}
	if reason != nil && *reason != "" && *reason != "No longer supported" {
		d.Arguments = ast.ArgumentList{{Name: "reason", Value: &ast.Value{Kind: ast.StringValue, Raw: *reason}}}
	}
	return ast.DirectiveList{d}
}

// parseDefault parses a defaultValue literal from introspection.
func parseDefault(lit *string) (*ast.Value, error) {
	if lit == nil {
		return nil, nil
	}
	doc, err := parser.ParseSchema(&ast.Source{Input: "input D { f: D = " + *lit + " }"})
	if err != nil || len(doc.Definitions) != 1 || len(doc.Definitions[0].Fields) != 1 || doc.Definitions[0].Fields[0].DefaultValue == nil {
		return nil, fmt.Errorf("bad default value %q", *lit)
	}
	return doc.Definitions[0].Fields[0].DefaultValue, nil
}
