package collect

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/footprint-dev/footprint/results"
)

const okDoc = `{"schemaVersion":1,"node":"bare","profile":"bare","status":"ok","os":{"prettyName":"Debian","kernel":"6.1"},
"settings":{"settleSeconds":1,"samples":1,"intervalSeconds":1},"phases":[],
"samples":[{"phase":"idle","uptimeSeconds":50,"usedKiB":163840,"freeUsedKiB":120000,"meminfoKiB":{"MemTotal":996000,"MemAvailable":832160}}]}`

func fastOptions(deadline time.Duration) Options {
	return Options{Deadline: deadline, RequestTimeout: 200 * time.Millisecond, MinWait: 10 * time.Millisecond, MaxWait: 50 * time.Millisecond}
}

// A guest goes through every bad state a booting or loaded machine shows
// before it answers; the collector must ride through all of them.
func TestCollectRidesThroughRefusalStallErrorsAndGarbage(t *testing.T) {
	var calls atomic.Int32
	var seen []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }

	// Reserve an address, then close it so the first attempts are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); n {
		case 1:
			note("stall")
			time.Sleep(500 * time.Millisecond) // longer than the request timeout
		case 2:
			note("500")
			http.Error(w, "boom", http.StatusInternalServerError)
		case 3:
			note("garbage")
			w.Write([]byte(`{"schemaVersion":1,"node":"bare","sta`))
		case 4:
			note("running")
			w.Write([]byte(`{"schemaVersion":1,"node":"bare","status":"running","phases":[],"samples":[]}`))
		default:
			note("ok")
			w.Write([]byte(okDoc))
		}
	})

	// The server comes up only after a few refused attempts.
	go func() {
		time.Sleep(150 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		srv := &http.Server{Handler: handler}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}()

	r, err := Collect(context.Background(), Target{Node: "bare", URL: "http://" + addr + "/result.json"}, fastOptions(10*time.Second))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if r.Status != results.StatusOK || r.Node != "bare" {
		t.Fatalf("got status %q node %q, want ok bare", r.Status, r.Node)
	}
	s, ok := r.Summarize("idle")
	if !ok || s.UsedMiB != 160 {
		t.Fatalf("summary %+v ok=%v, want used 160 MiB", s, ok)
	}
	mu.Lock()
	got := strings.Join(seen, ",")
	mu.Unlock()
	if got != "stall,500,garbage,running,ok" {
		t.Fatalf("server saw %s", got)
	}
	// refused attempts + 5 served ones
	if r.Collection == nil || r.Collection.Attempts < 6 {
		t.Fatalf("collection record %+v, want at least 6 attempts", r.Collection)
	}
}

func TestCollectDeadlineNamesNodeAndLastConsoleLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not yet", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	log := filepath.Join(t.TempDir(), "console.log")
	content := "[    1.0] booting\r\nfootprint: node=k3s phase=install status=started uptime=40.1\r\nsome kernel line\r\n"
	if err := os.WriteFile(log, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress []string
	o := fastOptions(300 * time.Millisecond)
	o.Progress = func(node, line string) { progress = append(progress, node+": "+line) }

	r, err := Collect(context.Background(), Target{Node: "k3s", URL: srv.URL, ConsoleLog: log}, o)
	if err == nil {
		t.Fatal("want an error at the deadline")
	}
	msg := err.Error()
	for _, want := range []string{"node k3s", "no result within 300ms", "503", "footprint: node=k3s phase=install status=started"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if r.Status != results.StatusTimeout || r.Collection == nil || r.Collection.Attempts < 2 {
		t.Errorf("result %+v, want status timeout with attempts recorded", r)
	}
	if len(progress) != 1 || !strings.Contains(progress[0], "phase=install") {
		t.Errorf("progress %v, want the agent's line once", progress)
	}
}

func TestCollectStopsWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not yet", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	// With a minute's deadline, only the cancellation can end this early
	// with "collection stopped" rather than "no result within".
	_, err := Collect(ctx, Target{Node: "bare", URL: srv.URL}, fastOptions(time.Minute))
	if err == nil || !strings.Contains(err.Error(), "collection stopped") {
		t.Fatalf("err = %v, want collection stopped", err)
	}
}

// A guest whose kernel panicked never answers: the collection stops at the
// first refusal after the panic shows on the console, long before its
// deadline, with a failed result that quotes the panic; until the panic,
// refusals are a boot in progress.
func TestCollectStopsAtAKernelPanic(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/result.json"
	ln.Close() // every attempt is refused, as by a guest that is not up
	log := filepath.Join(t.TempDir(), "console.log")
	boot := "[    1.855] Out of memory and no killable processes...\r\n"
	if err := os.WriteFile(log, []byte(boot), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = os.WriteFile(log, []byte(boot+"[    1.858] Kernel panic - not syncing: System is deadlocked on memory\r\n[    1.859] CPU: 0 PID: 9\r\n"), 0o644)
	}()
	start := time.Now()
	r, err := Collect(context.Background(), Target{Node: "docker-128m", URL: url, ConsoleLog: log}, fastOptions(time.Minute))
	if !errors.Is(err, ErrKernelPanic) || time.Since(start) > 30*time.Second {
		t.Fatalf("after %s: %v, want ErrKernelPanic well before the deadline", time.Since(start), err)
	}
	want := "the guest's kernel panicked: Kernel panic - not syncing: System is deadlocked on memory"
	if r.Status != results.StatusFailed || r.Detail != want || r.Collection == nil || r.Collection.Error != want || r.Collection.Attempts < 2 {
		t.Errorf("result %+v (collection %+v), want failed with %q after some refusals", r, r.Collection, want)
	}
}
