package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/footprint-dev/footprint/config"
	"github.com/footprint-dev/footprint/image"
	"github.com/footprint-dev/footprint/infra"
	"github.com/footprint-dev/footprint/logs"
	"github.com/footprint-dev/footprint/record"
	"github.com/footprint-dev/footprint/runner/progress"
)

// session is one `footprint run` of a prepared stack: its record and
// folder, its schedule, the display, Pulumi's log and stack, and the
// run's secrets.
type session struct {
	o      Options
	p      *infra.Prepared
	lock   *stackLock
	img    image.Resolved // the stack's image, where the backend boots one of footprint's
	rec    record.Run
	dir    string
	sched  schedule
	say    func(string, ...any)
	waves  *waveRunner
	closed []func() // undone by close, last first
}

// openRun checks what a run needs before anything is created, and opens
// its folder (a new one, or with --resume the earlier run's) and schedule.
// The image is fetched (or found in the cache) and checked first: a host
// without internet learns it here, in one line, before Pulumi or the
// backend is asked for anything.
func openRun(ctx context.Context, o Options, p *infra.Prepared, lock *stackLock) (*session, error) {
	if err := checkKeyFile(o.SSHKeyFile); err != nil {
		return nil, err
	}
	specs, err := p.Select(o.Only)
	if err != nil {
		return nil, fmt.Errorf("--only: %w", err)
	}
	s := &session{o: o, p: p, lock: lock}
	if p.LocalImage() {
		if s.img, err = image.Resolve(ctx, p.Experiment.Image, p.Experiment.ImageSHA256, image.CacheDir()); err != nil {
			return nil, err
		}
	}
	if err := p.Backend.Preflight(ctx, p.Environment(s.img)); err != nil {
		return nil, err
	}
	if s.rec, s.dir, err = openRunFolder(o); err != nil {
		return nil, err
	}
	if err := lock.record(s.dir); err != nil {
		o.Log.Warn(fmt.Sprintf("stack %s: the lock does not name the run folder: %v", o.Stack, err))
	}
	if err := readBackSaved(o, &s.rec, s.dir); err != nil {
		return nil, err
	}
	if s.sched, err = newSchedule(ctx, o, p, specs, s.rec); err != nil {
		return nil, err
	}
	if why := s.sched.finished(s.rec); why != "" {
		return s, fmt.Errorf("--resume %s: %s", s.dir, why)
	}
	return s, nil
}

// start shows the run, opens its stack and makes its secrets, removes
// what lost hosts kept, and puts the record on disk before the first
// machine: a run killed outright leaves a folder --resume reads back.
func (s *session) start(ctx context.Context) error {
	o := s.o
	track := progress.New(o.Out, o.Progress, s.sched.nodes())
	s.closed = append(s.closed, logs.Divert(o.Log, track.Note), ticker(track))
	s.say = logs.Printf(o.Log)
	pulumiLog, err := openPulumiLog(s.dir, s.rec.ID)
	if err != nil {
		return err
	}
	s.closed = append(s.closed, func() { pulumiLog.Close() })
	s.say("run %s: stack %s, %s; results in %s; Pulumi's log in pulumi.log there", s.rec.ID, o.Stack, s.sched.about(), s.dir)
	stack, err := o.openStack(ctx, o)
	if err != nil {
		return err
	}
	secrets, err := config.NewSecrets(s.rec.ID)
	if err != nil {
		return err
	}
	if err := keepSecrets(ctx, stack, secrets); err != nil {
		return err
	}
	if o.SSHKeyFile != "" {
		if err := writeKeyFile(o.SSHKeyFile, []byte(secrets.SSHPrivateKey)); err != nil {
			return err
		}
		s.say("the run's SSH private key is in %s (user: the image's default user)", o.SSHKeyFile)
	}
	held := locks{s.lock}
	if err := sweepLostHosts(ctx, held, s.p.Backend, s.p.Prefix, s.rec.Lost, s.say); err != nil {
		return err
	}
	s.rec.Lost = nil // removed: the hosts are back
	s.rec.Experiment = s.p.Record(s.img)
	s.waves = newWaveRunner(s, stack, pulumiLog, secrets, track, held)
	s.sync()
	if err := writeRecord(s.dir, s.rec); err != nil {
		s.say("writing %s: %v", s.dir, err)
	}
	return nil
}

// sync brings into the record what the schedule derives from its nodes.
func (s *session) sync() {
	s.rec.NotRun = s.sched.notRun(s.rec)
	s.sched.derive(&s.rec)
}

// finish writes the run's final record and says how the run ended.
func (s *session) finish(ctx context.Context, upErr, destroyErr error) (Outcome, error) {
	s.sync()
	if len(s.rec.NotRun) > 0 {
		s.say("not run: %s; run them with: footprint run --stack %s --resume %s", strings.Join(s.rec.NotRun, ", "), s.o.Stack, s.dir)
	}
	s.rec.FinishedAt = time.Now().UTC()
	out := s.outcome()
	if err := writeRecord(s.dir, s.rec); err != nil {
		return out, fmt.Errorf("writing %s: %w", s.dir, err)
	}
	out.AllOK = upErr == nil && destroyErr == nil && s.sched.ok(s.rec)
	switch {
	case destroyErr != nil:
		return out, fmt.Errorf("destroy of stack %s failed (run `footprint destroy --stack %s`): %w", s.o.Stack, s.o.Stack, destroyErr)
	case ctx.Err() != nil:
		return out, fmt.Errorf("interrupted; the stack was destroyed and what was measured is in %s: %w", s.dir, context.Cause(ctx))
	case upErr != nil:
		return out, fmt.Errorf("up of stack %s failed: %w", s.o.Stack, upErr)
	}
	return out, nil
}

// outcome is what the run produced so far; nothing before its folder.
func (s *session) outcome() Outcome {
	if s == nil {
		return Outcome{}
	}
	return Outcome{RunDir: s.dir, Run: s.rec, AllOK: s.sched != nil && s.sched.ok(s.rec)}
}

func (s *session) close() {
	for i := len(s.closed) - 1; i >= 0; i-- {
		s.closed[i]()
	}
}

// openRunFolder is a new run folder, or with Options.Resume the folder of
// an earlier run and what it holds.
func openRunFolder(o Options) (record.Run, string, error) {
	if o.Resume == "" {
		id, dir, err := newRunDir(o.RunsDir, o.Stack)
		return record.Run{ID: id, Stack: o.Stack, StartedAt: time.Now().UTC()}, dir, err
	}
	dir, err := filepath.Abs(o.Resume)
	if err != nil {
		return record.Run{}, "", err
	}
	prev, err := record.Read(dir)
	if err == nil {
		err = record.CheckNodeNames(dir, prev) // the run is written back into dir
	}
	if err != nil {
		return record.Run{}, "", fmt.Errorf("--resume %s: %w", o.Resume, err)
	}
	if prev.Stack != o.Stack {
		return record.Run{}, "", fmt.Errorf("--resume %s: a run of stack %s, not %s", o.Resume, prev.Stack, o.Stack)
	}
	return prev, dir, nil
}

// newRunDir makes the folder of a new run, named after the time and the
// stack, and returns the run's ID and the folder.
func newRunDir(runsDir, stack string) (string, string, error) {
	base := time.Now().UTC().Format("20060102T150405Z") + "-" + stack
	if err := os.MkdirAll(runsDir, 0o755); err != nil {
		return "", "", err
	}
	for i := 1; ; i++ {
		id := base
		if i > 1 {
			id = fmt.Sprintf("%s-%d", base, i)
		}
		dir := filepath.Join(runsDir, id)
		err := os.Mkdir(dir, record.DirMode) // it holds every guest's console and the hosts' names
		if err == nil {
			return id, dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", "", err
		}
	}
}

// ticker redraws a terminal's node lines every second until stopped.
func ticker(t *progress.Tracker) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.Tick()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}
