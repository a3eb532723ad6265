// Package client is the Go client of certkeeper's REST API (/api/v1).
//
// A Client is made with New from the server's base URL and an API token
// ("ck_..."; create one with "certkeeper token create"). Every method takes
// a context first and maps to one API route; a response with an error
// status is returned as an *Error carrying the server's RFC 9457 problem
// document, which IsNotFound, IsConflict and the other helpers inspect.
//
// The types in this package are the API's wire types: their JSON names are
// the API's, and times are RFC 3339 in UTC.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultUserAgent is sent when no WithUserAgent option is given.
const DefaultUserAgent = "certkeeper-client"

// maxResponse caps a response body read into memory (a key store or a
// definition document is at most a few MiB).
const maxResponse = 64 << 20

// Client calls the certkeeper API. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
	ua    string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send requests through hc; nil means
// http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header; "" means DefaultUserAgent.
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// New returns a client of the API at baseURL (for example
// "https://certkeeper.example.com", without "/api/v1"). token is an API
// token secret; "" sends no Authorization header (for a transport that
// authenticates by itself).
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want an absolute http:// or https:// URL", baseURL)
	}
	c := &Client{base: strings.TrimSuffix(u.String(), "/"), token: token}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	return c, nil
}

// call is one request: a JSON (in) or raw (raw, rawType) body, and a JSON
// (out) or raw (rawOut) response.
type call struct {
	method  string
	path    string // already escaped
	query   url.Values
	in      any
	raw     []byte
	rawType string
	ifMatch string
	out     any
	rawOut  *[]byte
}

// do sends c and decodes the response.
func (c *Client) do(ctx context.Context, cl call) error {
	req, err := c.request(ctx, cl)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("client: %s %s: read response: %w", cl.method, cl.path, err)
	}
	if resp.StatusCode >= 400 {
		return newError(resp, body)
	}
	switch {
	case cl.rawOut != nil:
		*cl.rawOut = body
	case cl.out != nil && len(body) > 0:
		if err := json.Unmarshal(body, cl.out); err != nil {
			return fmt.Errorf("client: %s %s: decode response: %w", cl.method, cl.path, err)
		}
	}
	return nil
}

func (c *Client) request(ctx context.Context, cl call) (*http.Request, error) {
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	ctype := cl.rawType
	switch {
	case cl.raw != nil:
		body = bytes.NewReader(cl.raw)
	case cl.in != nil:
		b, err := json.Marshal(cl.in)
		if err != nil {
			return nil, fmt.Errorf("client: %s %s: %w", cl.method, cl.path, err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if cl.ifMatch != "" {
		req.Header.Set("If-Match", cl.ifMatch)
	}
	req.Header.Set("Accept", "application/json, application/problem+json, */*")
	req.Header.Set("User-Agent", c.ua)
	return req, nil
}

// path joins escaped path elements under /api/v1.
func path(elems ...any) string {
	var b strings.Builder
	b.WriteString("/api/v1")
	for _, e := range elems {
		b.WriteByte('/')
		switch v := e.(type) {
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			b.WriteString(url.PathEscape(v))
		default:
			panic(fmt.Sprintf("client: path element of type %T", e))
		}
	}
	return b.String()
}

// Page selects one page of a list. The zero value asks for the first page
// of the server's default size (100).
type Page struct {
	// Limit is the page size, 1 to 1000; 0 means the default.
	Limit int
	// After is the Next cursor of the previous page; "" for the first.
	After string
}

func (p Page) values() url.Values {
	v := url.Values{}
	if p.Limit != 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.After != "" {
		v.Set("after", p.After)
	}
	return v
}

// setNonZero adds k=v to q unless v is empty or "0".
func setNonZero(q url.Values, k, v string) {
	if v != "" && v != "0" {
		q.Set(k, v)
	}
}

var errEmptyName = errors.New("client: empty name")
