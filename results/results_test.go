package results

import (
	"encoding/json"
	"strings"
	"testing"
)

func sample(phase PhaseName, used, total, avail int64, free *int64) Sample {
	return Sample{Phase: phase, UsedKiB: used, FreeUsedKiB: free,
		MeminfoKiB: map[string]int64{"MemTotal": total, "MemAvailable": avail, "SwapTotal": 1024, "SwapFree": 512}}
}

func TestSummarizeTakesTheMedianOfOnePhase(t *testing.T) {
	f := int64(100 * 1024)
	r := Result{Samples: []Sample{
		sample("idle", 170*1024, 996*1024, 826*1024, &f),
		sample("idle", 160*1024, 996*1024, 836*1024, &f),
		sample("idle", 190*1024, 996*1024, 806*1024, &f),
		sample("workload", 900*1024, 996*1024, 96*1024, nil),
	}}
	s, ok := r.Summarize("idle")
	if !ok || s.Samples != 3 || s.UsedMiB != 170 || s.UsedMinMiB != 160 || s.UsedMaxMiB != 190 ||
		s.MemTotalMiB != 996 || s.FreeUsedMiB != 100 || s.SwapUsedMiB != 0.5 || s.AvailableMiB != 826 {
		t.Errorf("idle summary %+v", s)
	}
	w, ok := r.Summarize("workload")
	if !ok || w.UsedMiB != 900 || w.FreeUsedMiB != 0 {
		t.Errorf("workload summary %+v", w)
	}
	if _, ok := r.Summarize("nothing"); ok {
		t.Error("a phase without samples summarised")
	}
	even := Result{Samples: []Sample{sample("idle", 100*1024, 1, 1, nil), sample("idle", 110*1024, 1, 1, nil)}}
	if s, _ := even.Summarize("idle"); s.UsedMiB != 105 {
		t.Errorf("median of two = %v, want 105", s.UsedMiB)
	}
}

func TestParseChecksTheDocument(t *testing.T) {
	for doc, want := range map[string]string{
		`{"schemaVersion":1,"node":"bare","status":"ok"}`: "",
		`{"schemaVersion":2,"node":"bare","status":"ok"}`: "schema version 2",
		`{"schemaVersion":1,"status":"ok"}`:               "lacks node",
		`{"schemaVersion":1,"node":"ba`:                   "not JSON",
		``:                                                "not JSON",
	} {
		_, err := Parse([]byte(doc))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("Parse(%q) = %v, want %q", doc, err, want)
		}
	}
}

func TestPhaseTimes(t *testing.T) {
	r := Result{Phases: []Phase{{Name: "boot", StartedAt: 0, EndedAt: 60}, {Name: "settle", StartedAt: 60, EndedAt: 70.5}}}
	if d, ok := r.PhaseSeconds("settle"); !ok || d != 10.5 {
		t.Errorf("settle %v %v", d, ok)
	}
	if e, ok := r.PhaseEnd("boot"); !ok || e != 60 {
		t.Errorf("boot end %v %v", e, ok)
	}
	if _, ok := r.PhaseEnd("install"); ok {
		t.Error("missing phase found")
	}
}

func TestFactsAreOptional(t *testing.T) {
	r, err := Parse([]byte(`{"schemaVersion":1,"node":"kubeadm-1024m","status":"ok",` +
		`"facts":{"preflightIgnored":"NumCPU,Mem","preflightWarnings":"[WARNING NumCPU]: the number of available CPUs 1 is less than the required 2"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Facts) != 2 || r.Facts["preflightIgnored"] != "NumCPU,Mem" ||
		!strings.HasPrefix(r.Facts["preflightWarnings"], "[WARNING NumCPU]: ") {
		t.Errorf("facts %v", r.Facts)
	}
	// A document of an agent without facts reads as before, and writes back
	// without the key.
	old, err := Parse([]byte(`{"schemaVersion":1,"node":"bare","status":"ok"}`))
	if err != nil || old.Facts != nil {
		t.Fatalf("old document: %v, facts %v", err, old.Facts)
	}
	data, err := json.Marshal(old)
	if err != nil || strings.Contains(string(data), "facts") {
		t.Errorf("a result without facts marshals as %s (%v)", data, err)
	}
	// Facts are strings: anything else is a broken agent, said in one line.
	if _, err := Parse([]byte(`{"schemaVersion":1,"node":"bare","status":"ok","facts":{"n":3}}`)); err == nil ||
		!strings.Contains(err.Error(), "facts") {
		t.Errorf("a non-string fact: %v", err)
	}
}

// The steady state of a phase: its samples and the timeline's points inside
// it, never those of other phases; p95 by nearest rank.
func TestSteadyStateUsesSamplesAndTheTimelineInsideThePhase(t *testing.T) {
	r := Result{
		Phases: []Phase{{Name: "settle", StartedAt: 10, EndedAt: 70}, {Name: "idle", Status: StatusOK, StartedAt: 70, EndedAt: 90},
			{Name: "workload", StartedAt: 90, EndedAt: 91}, {Name: "workload", StartedAt: 200, EndedAt: 220}},
		Samples: []Sample{{Phase: "idle", UsedKiB: 100 * 1024}, {Phase: "idle", UsedKiB: 102 * 1024}, {Phase: "workload", UsedKiB: 400 * 1024}},
	}
	var pts [][3]float64
	for u := 0.0; u <= 230; u += 5 {
		used := 300.0 * 1024 // settle and the workload's start: never counted for idle
		switch {
		case u >= 70 && u <= 90:
			used = (100 + u - 70) * 1024 // 100..120 MiB
		case u >= 200 && u <= 220:
			used = 410 * 1024
		}
		pts = append(pts, [3]float64{u, used, 0})
	}
	r.Timeline = &Timeline{IntervalSeconds: 5, Points: pts}

	idle, ok := r.SteadyState("idle")
	// samples 100, 102; timeline 100, 105, 110, 115, 120
	if !ok || idle.Readings != 7 || idle.MinMiB != 100 || idle.MaxMiB != 120 || idle.MedianMiB != 105 || idle.P95MiB != 120 {
		t.Errorf("idle %+v", idle)
	}
	// The workload's samples phase is the later one: 400 and five times 410.
	work, ok := r.SteadyState("workload")
	if !ok || work.Readings != 6 || work.MinMiB != 400 || work.MaxMiB != 410 || work.P95MiB != 410 {
		t.Errorf("workload %+v", work)
	}
	if _, ok := r.SteadyState("api"); ok {
		t.Error("a steady state without samples")
	}
}

// A breakdown carries the agent's own cost; older documents read without it.
func TestParseReadsTheAgentsOwnCost(t *testing.T) {
	r, err := Parse([]byte(`{"schemaVersion":1,"node":"bare","status":"ok","agentRssKiB":2900,"breakdowns":[` +
		`{"phase":"idle","unitsKiB":{},"cgroupsKiB":{},"topProcesses":[],"oomKills":0,` +
		`"agent":{"cgroup":"system.slice/footprint-agent.service","cgroupKiB":3072,"anonKiB":1024,"fileKiB":2048,"pssKiB":null,"processes":3}},` +
		`{"phase":"workload","unitsKiB":{},"cgroupsKiB":{},"topProcesses":[],"oomKills":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a := r.Breakdowns[0].Agent
	if a == nil || a.Cgroup != "system.slice/footprint-agent.service" || *a.CgroupKiB != 3072 || *a.AnonKiB != 1024 ||
		*a.FileKiB != 2048 || a.PSSKiB != nil || a.Processes != 3 || *r.AgentRSSKiB != 2900 {
		t.Errorf("agent %+v", a)
	}
	if r.Breakdowns[1].Agent != nil {
		t.Errorf("agent from nothing: %+v", r.Breakdowns[1].Agent)
	}
}

// A timeline carries the memory pressure beside its points; older ones read
// without it.
func TestParseReadsTheTimelinesPressure(t *testing.T) {
	r, err := Parse([]byte(`{"schemaVersion":1,"node":"bare","status":"ok","timeline":{"intervalSeconds":5,` +
		`"points":[[60.1,170000,826000],[65.1,171000,825000]],"pressure":[[60.1,0.00,1200,0.00,300],[65.1,1.52,4211843,0.25,1350020]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	pr := r.Timeline.Pressure
	if len(pr) != 2 || pr[1][0] != 65.1 || pr[1][PSISomeAvg10] != 1.52 || pr[1][PSISomeTotal] != 4211843 ||
		pr[1][PSIFullAvg10] != 0.25 || pr[1][PSIFullTotal] != 1350020 {
		t.Errorf("pressure %v", pr)
	}
	r, _ = Parse([]byte(`{"schemaVersion":1,"node":"bare","status":"ok","timeline":{"intervalSeconds":5,"points":[[60.1,170000,826000]]}}`))
	if r.Timeline.Pressure != nil || len(r.Timeline.Points) != 1 {
		t.Errorf("timeline %+v", r.Timeline)
	}
}

// The API over time and the OOM kills' times read back as the agent wrote
// them; older documents have neither.
func TestParseReadsTheAPISeriesAndOOMKills(t *testing.T) {
	r, err := Parse([]byte(`{"schemaVersion":1,"node":"kubeadm","status":"ok",` +
		`"apiSeries":{"intervalSeconds":10,"points":[{"uptimeSeconds":300.5,"httpCode":200,"seconds":0.012},` +
		`{"uptimeSeconds":310.5,"httpCode":0,"seconds":10.002},{"uptimeSeconds":320.5,"httpCode":503,"seconds":null}]},` +
		`"oomKillEvents":[{"uptimeSeconds":315.25,"process":"mysqld"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := r.APISeries
	if s == nil || s.IntervalSeconds != 10 || len(s.Points) != 3 || !s.Points[0].OK() || *s.Points[0].Seconds != 0.012 ||
		s.Points[1].OK() || s.Points[1].HTTPCode != 0 || s.Points[2].OK() || s.Points[2].Seconds != nil || s.Points[2].UptimeSeconds != 320.5 {
		t.Errorf("series %+v", s)
	}
	if len(r.OOMKillEvents) != 1 || r.OOMKillEvents[0] != (OOMKill{UptimeSeconds: 315.25, Process: "mysqld"}) {
		t.Errorf("OOM kills %+v", r.OOMKillEvents)
	}
	r, _ = Parse([]byte(`{"schemaVersion":1,"node":"bare","status":"ok"}`))
	if r.APISeries != nil || r.OOMKillEvents != nil {
		t.Errorf("from nothing: %+v %+v", r.APISeries, r.OOMKillEvents)
	}
}
