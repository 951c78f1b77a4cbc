// Package stall bounds a transfer that stops moving. A download of an
// image or an artifact may take an hour and still be healthy, so it has no
// overall deadline; one from a server that sent its headers and then
// nothing would wait forever. A Watch ends the transfer when no byte has
// arrived for a while: before the answer and between any two reads.
package stall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/footprint-dev/footprint/internal/redact"
)

// Error is a transfer that stalled; it names the URL, redacted.
type Error struct {
	URL   string
	After time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s sent nothing for %s: stalled", redact.URL(e.URL), e.After)
}

// Watch is the context of one transfer, cancelled when it stalls.
type Watch struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	after  time.Duration
}

// New watches a transfer of url under ctx: it stalls after `after` without
// a byte. Stop releases it.
func New(ctx context.Context, url string, after time.Duration) *Watch {
	w := &Watch{after: after}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	stalled := &Error{URL: url, After: after}
	w.timer = time.AfterFunc(after, func() { w.cancel(stalled) })
	return w
}

// Context is the transfer's context: the request is made with it.
func (w *Watch) Context() context.Context { return w.ctx }

// Body is the answer's body, each byte read putting the stall off.
func (w *Watch) Body(r io.ReadCloser) io.ReadCloser { return body{r, w} }

// Err is err, or the stall that caused it.
func (w *Watch) Err(err error) error {
	var s *Error
	if err != nil && errors.As(context.Cause(w.ctx), &s) {
		return s
	}
	return err
}

// Stop ends the watch; the context is cancelled with it.
func (w *Watch) Stop() {
	w.timer.Stop()
	w.cancel(nil)
}

type body struct {
	io.ReadCloser
	w *Watch
}

func (b body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.timer.Reset(b.w.after)
	}
	return n, err
}
