package infra

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/footprint-dev/footprint/infra/machine"
	"github.com/footprint-dev/footprint/results"
)

// hostSampler takes the host's view of a machine each time its agent
// prints a sample line on the serial console, until stopped.
type hostSampler struct {
	node    string
	console string
	view    func(context.Context) (machine.HostView, error)
	every   time.Duration

	mu      sync.Mutex
	samples []results.HostSample
	offset  int64
	partial []byte
}

// watchHost starts a sampler for m, a no-op where the backend cannot see
// the machine's process or its console. stop ends it and returns what it
// saw.
func watchHost(ctx context.Context, m machine.Machine) (stop func() []results.HostSample) {
	if m.HostView == nil || m.ConsoleLog == "" {
		return func() []results.HostSample { return nil }
	}
	s := &hostSampler{node: m.Spec.Node, console: m.ConsoleLog, view: m.HostView, every: time.Second}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			s.poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() []results.HostSample {
		cancel()
		<-done
		// The agent's last lines can come just before its final result:
		// read them too, while the machine still runs.
		s.poll(context.WithoutCancel(ctx))
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.samples
	}
}

// poll reads the console's new complete lines and takes one host view per
// sample line among them.
func (s *hostSampler) poll(ctx context.Context) {
	f, err := os.Open(s.console)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < s.offset {
		s.offset, s.partial = 0, nil // virtlogd rotated the log
	}
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		return
	}
	data, err := io.ReadAll(f)
	if err != nil || len(data) == 0 {
		return
	}
	s.offset += int64(len(data))
	data = append(s.partial, data...)
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		s.partial = data
		return
	}
	s.partial = append([]byte(nil), data[end+1:]...)
	for _, line := range bytes.Split(data[:end], []byte{'\n'}) {
		phase, uptime, ok := results.SampleLine(string(line), s.node)
		if !ok {
			continue
		}
		v, err := s.view(ctx)
		if err != nil && v.RSSKiB == 0 {
			continue
		}
		s.mu.Lock()
		s.samples = append(s.samples, results.HostSample{Phase: phase, GuestUptimeSeconds: uptime,
			RSSKiB: v.RSSKiB, PSSKiB: v.PSSKiB, BalloonKiB: v.BalloonKiB})
		s.mu.Unlock()
	}
}
