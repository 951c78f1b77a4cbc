// Package logs is footprint's one channel for what the user must read: the
// CLI makes a logger and passes it down (runner, backends), and every line
// reads "footprint: MESSAGE" followed by its attributes. While a progress
// display owns the terminal, the lines go through it instead (Divert), so
// that a redraw never overwrites them.
package logs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// New is a logger writing to w.
func New(w io.Writer) *slog.Logger {
	return slog.New(&handler{sink: &sink{w: w}})
}

// Discard is a logger that writes nothing, for tests and library use.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Printf logs a formatted message at level info: the form backends take
// (machine.Logf).
func Printf(l *slog.Logger) func(format string, args ...any) {
	return func(format string, args ...any) { l.Info(fmt.Sprintf(format, args...)) }
}

// Divert sends the logger's lines to line, one call per line, until the
// returned function is called; a logger not made by New is left alone.
func Divert(l *slog.Logger, line func(string)) (restore func()) {
	h, ok := l.Handler().(*handler)
	if !ok {
		return func() {}
	}
	h.sink.mu.Lock()
	old := h.sink.line
	h.sink.line = line
	h.sink.mu.Unlock()
	return func() {
		h.sink.mu.Lock()
		h.sink.line = old
		h.sink.mu.Unlock()
	}
}

type sink struct {
	mu   sync.Mutex
	w    io.Writer
	line func(string) // set while diverted
}

type handler struct {
	sink  *sink
	attrs []slog.Attr
}

func (h *handler) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelInfo }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("footprint: ")
	if r.Level >= slog.LevelWarn {
		b.WriteString(strings.ToLower(r.Level.String()) + ": ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	if h.sink.line != nil {
		h.sink.line(strings.TrimPrefix(b.String(), "footprint: "))
		return nil
	}
	_, err := io.WriteString(h.sink.w, b.String()+"\n")
	return err
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{sink: h.sink, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

// WithGroup is not used by footprint; groups are flattened.
func (h *handler) WithGroup(string) slog.Handler { return h }
