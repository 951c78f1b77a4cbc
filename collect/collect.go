// Package collect fetches a node's result from its agent over HTTP. A guest
// that is booting refuses connections, one under load stalls or answers
// errors, and a half-written document is garbage: all of these are retried
// with backoff until an overall deadline, after which the error names the
// node and the last thing its console said.
package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/footprint-dev/footprint/results"
)

// Target is one node to collect from.
type Target struct {
	Node       string
	URL        string
	ConsoleLog string // host path of the serial console log; "" when libvirt is remote
	// SSH, when set, is the route to URL through the guest's SSH server;
	// URL is then as the guest sees it.
	SSH *SSH
}

// ErrKernelPanic: the guest's console shows its kernel panicked, so its
// agent will never answer; the collection stops at once.
var ErrKernelPanic = errors.New("the guest's kernel panicked")

// Options bound the collection.
type Options struct {
	Deadline       time.Duration // overall, from the first attempt
	RequestTimeout time.Duration // each attempt
	MinWait        time.Duration // backoff bounds
	MaxWait        time.Duration
	// Progress, when set, is told each new console line of the agent.
	Progress func(node, line string)
}

// DefaultOptions suit a guest that boots in under a minute on KVM or a few
// minutes under emulation.
func DefaultOptions(deadline time.Duration) Options {
	// Polling a private endpoint costs nothing, and a long backoff showed as
	// seconds of harness overhead in the benchmarks: at most 2 s apart.
	return Options{Deadline: deadline, RequestTimeout: 10 * time.Second, MinWait: time.Second, MaxWait: 2 * time.Second}
}

// ForSSH spaces the attempts wider for a target reached through SSH: each
// one costs the guest a connection of its SSH server and a key exchange
// while it is being measured.
func (o Options) ForSSH() Options {
	o.MaxWait = max(o.MaxWait, 5*time.Second)
	return o
}

// Collect polls the target until its agent has a final result or the
// deadline passes. It returns the result with Collection filled in; on error
// the returned Result still carries the collection record.
func Collect(ctx context.Context, t Target, o Options) (results.Result, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()

	var (
		mu        sync.Mutex
		attempts  int
		lastErr   string
		lastShown string
	)
	rec := func() *results.Collection {
		mu.Lock()
		defer mu.Unlock()
		return &results.Collection{
			URL: t.URL, Via: via(t), Attempts: attempts, Seconds: time.Since(start).Seconds(),
			LastConsoleLine: results.LastConsoleLine(t.ConsoleLog), ConsoleLogOnHost: t.ConsoleLog,
		}
	}

	client := retryablehttp.NewClient()
	client.Logger = nil
	client.RetryMax = math.MaxInt32 // the context's deadline is the bound
	client.RetryWaitMin, client.RetryWaitMax = o.MinWait, o.MaxWait
	client.HTTPClient.Timeout = o.RequestTimeout
	if t.SSH != nil {
		// One SSH connection per attempt, closed with it.
		client.HTTPClient.Transport = &http.Transport{DialContext: t.SSH.DialContext, DisableKeepAlives: true}
	}
	client.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, _ int) {
		mu.Lock()
		attempts++
		mu.Unlock()
		if o.Progress == nil {
			return
		}
		if line := results.LastConsoleLine(t.ConsoleLog); line != "" && line != lastShown {
			lastShown = line
			o.Progress(t.Node, line)
		}
	}
	// A request that times out leaves its dial going on (the transport
	// keeps it for a later request): an SSH dial stuck in its handshake is
	// cancelled with it, and whatever is left when the collection ends.
	abandon := client.HTTPClient.CloseIdleConnections
	defer abandon()
	client.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if err != nil {
			abandon()
			setLast(&mu, &lastErr, err.Error())
			if line, ok := results.KernelPanic(t.ConsoleLog); ok {
				panicked := fmt.Errorf("%w: %s", ErrKernelPanic, line)
				setLast(&mu, &lastErr, panicked.Error())
				return false, panicked
			}
			// A host key that is not the run's is an impostor or a
			// misconfiguration: waiting does not make it trustworthy.
			return !errors.Is(err, ErrHostKey), nil
		}
		if resp.StatusCode != http.StatusOK {
			setLast(&mu, &lastErr, resp.Status)
			return true, nil
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			setLast(&mu, &lastErr, rerr.Error())
			return true, nil
		}
		r, perr := results.Parse(body)
		if perr != nil {
			setLast(&mu, &lastErr, perr.Error())
			return true, nil
		}
		if !r.Final() {
			setLast(&mu, &lastErr, "agent still running")
			return true, nil
		}
		return false, nil
	}

	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return results.Result{Collection: rec()}, fmt.Errorf("node %s: %w", t.Node, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		c := rec()
		mu.Lock()
		why := lastErr
		mu.Unlock()
		if why == "" {
			why = err.Error()
		}
		if errors.Is(err, ErrKernelPanic) {
			// A finding, not a missing result: the guest cannot run at all.
			c.Error = why
			return results.Result{Node: t.Node, Status: results.StatusFailed, Detail: why, Collection: c},
				fmt.Errorf("node %s: %w", t.Node, err)
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			c.Error = fmt.Sprintf("no result within %s (%d attempts, last: %s)", o.Deadline, c.Attempts, why)
		} else {
			c.Error = fmt.Sprintf("collection stopped: %v (last: %s)", err, why)
		}
		return results.Result{Node: t.Node, Status: results.StatusTimeout, Collection: c},
			fmt.Errorf("node %s: %s; last console line: %s", t.Node, c.Error, orNone(c.LastConsoleLine))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r, err := results.Parse(body) // checked once already in CheckRetry
	if err != nil {
		return results.Result{Collection: rec()}, fmt.Errorf("node %s: %w", t.Node, err)
	}
	r.Collection = rec()
	return r, nil
}

func via(t Target) string {
	if t.SSH == nil {
		return ""
	}
	return t.SSH.String()
}

func setLast(mu *sync.Mutex, dst *string, v string) {
	mu.Lock()
	*dst = v
	mu.Unlock()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
