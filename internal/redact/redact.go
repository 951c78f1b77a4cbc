// Package redact takes credentials out of what footprint records or prints:
// an image or artifact URL may carry a user and password
// (https://user:pass@host/...) or a signed query (X-Amz-Signature=...,
// sig=..., token=...), and a run folder, a stack output or a terminal is no
// place for them. The download itself still uses the real URL.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mark stands where a secret was.
const Mark = "REDACTED"

// URL is raw with its secrets replaced by Mark: the password of its user
// (the user alone when there is no password: a token is often given so),
// and the values of query parameters that sign or authorise the request.
// Anything that is not a URL is returned as it is.
func URL(raw string) string {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Unreadable, so nothing of it can be told safe but its scheme.
		return scheme + "://" + Mark
	}
	q := query(u.RawQuery)
	if u.User == nil && q == u.RawQuery {
		return raw // nothing to hide: the URL as it was written
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Mark)
	} else if u.User != nil {
		u.User = url.User(Mark)
	}
	u.RawQuery = q
	return u.String()
}

// query redacts the secret parameters of a raw query, keeping the order
// and spelling of the others.
func query(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, has := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if has && secretParam(name) {
			parts[i] = k + "=" + Mark
		}
	}
	return strings.Join(parts, "&")
}

// secretParam tells the query parameters that sign or authorise a URL:
// S3's and GCS's presigned URLs (X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, X-Goog-Signature), CloudFront's Signature, Azure's
// SAS sig, and the usual token, key and password parameters.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, part := range []string{"signature", "token", "secret", "password", "passwd", "credential", "apikey", "api_key", "access_key", "auth"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	switch n {
	case "sig", "key", "pwd", "policy":
		return true
	}
	return false
}

var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// Text is s with every URL in it passed through URL: for messages that
// quote a URL, such as the errors of an HTTP client.
func Text(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, URL)
}

// Error is err with its message passed through Text; errors.Is and As
// still see err.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return redacted{err}
}

type redacted struct{ err error }

func (r redacted) Error() string { return Text(r.err.Error()) }
func (r redacted) Unwrap() error { return r.err }
