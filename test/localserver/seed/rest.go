package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// client is a tiny Mattermost REST v4 helper: JSON in, JSON out, AppError-aware errors.
type client struct {
	base  string // e.g. http://127.0.0.1:8065/api/v4
	token string // session token or PAT; empty = unauthenticated
	http  *http.Client
}

func newClient(serverURL string) *client {
	return &client{
		base: strings.TrimRight(serverURL, "/") + "/api/v4",
		http: &http.Client{Timeout: 60 * time.Second},
	}
}

// withToken returns a copy of c that authenticates with token.
func (c *client) withToken(token string) *client {
	cp := *c
	cp.token = token
	return &cp
}

// apiError is a non-2xx answer; ID and Message come from Mattermost's AppError JSON when present.
type apiError struct {
	Method, Path string
	Status       int
	ID           string
	Message      string
	Detail       string
	RequestID    string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.ID != "" {
		msg += " " + e.ID
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	if e.RequestID != "" {
		msg += " [request_id " + e.RequestID + "]"
	}
	return msg
}

// statusOf returns the HTTP status of an *apiError, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// do sends body (if non-nil) as JSON and decodes a 2xx answer into out (if non-nil).
// It returns the response headers so callers can read e.g. the login `Token` header.
func (c *client) do(ctx context.Context, method, path string, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &apiError{Method: method, Path: path, Status: resp.StatusCode}
		var appErr struct {
			ID            string `json:"id"`
			Message       string `json:"message"`
			DetailedError string `json:"detailed_error"`
			RequestID     string `json:"request_id"`
		}
		if json.Unmarshal(raw, &appErr) == nil {
			ae.ID, ae.Message, ae.Detail, ae.RequestID = appErr.ID, appErr.Message, appErr.DetailedError, appErr.RequestID
		} else {
			ae.Message = strings.TrimSpace(string(raw)) // e.g. the plain-text 429 body
		}
		return resp.Header, ae
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.Header, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.Header, nil
}
