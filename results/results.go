// Package results is the shape of what a node measured: the agent's JSON
// document as it arrives, plus what footprint adds around it (where the
// node ran, which image it booted, how collection went), and the figures a
// report derives from the raw samples.
package results

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// AgentSchemaVersion is the version of the agent's document (a node's
// result, Result) this code reads.
const AgentSchemaVersion = 1

// Status is how a node ended (Result.Status) or how one of its phases
// did (Phase.Status), spelt as in the agent's document and on its console.
type Status string

// Verdicts a node can end with.
const (
	StatusOK      Status = "ok"
	StatusRunning Status = "running" // the agent has not finished
	StatusFailed  Status = "failed"  // a hook failed; the phases done are kept
	StatusTimeout Status = "timeout" // no result before the collection deadline
	// StatusUnresponsive: the guest got somewhere (its console says so) but
	// its result never arrived over the network.
	StatusUnresponsive Status = "unresponsive"
)

// How a phase can end besides ok, failed (its hook failed) and timeout (its
// hook or check ran out of time).
const (
	StatusSkipped      Status = "skipped"      // the profile has no hook for it
	StatusPreinstalled Status = "preinstalled" // install: the image holds the system already
	// StatusUnsettled ends a settle phase whose rule's cap passed before used
	// memory held still; the samples after it are taken all the same.
	StatusUnsettled Status = "unsettled"
	// StatusStarted is said only on the console, when a phase begins.
	StatusStarted Status = "started"
)

// APIVerdict is what the probes of a system's API came to.
type APIVerdict string

// API verdicts.
const (
	APIResponsive   APIVerdict = "responsive"
	APIDegraded     APIVerdict = "degraded"
	APIUnresponsive APIVerdict = "unresponsive"
)

// Result is one node's document.
type Result struct {
	SchemaVersion int    `json:"schemaVersion"`
	Node          string `json:"node"`
	Profile       string `json:"profile"`
	// Variant, when set, is the stack's variant the node measured: the
	// profile with options chosen, which its figures must never be taken
	// for the profile's defaults without.
	Variant *Variant `json:"variant,omitempty"`
	Status  Status   `json:"status"`
	Detail  string   `json:"detail,omitempty"`
	OS      OS       `json:"os"`
	// RequestedVersion is the profile's version setting; SystemVersion is
	// what the installed system says it is.
	RequestedVersion string   `json:"requestedVersion,omitempty"`
	SystemVersion    string   `json:"systemVersion,omitempty"`
	Settings         Settings `json:"settings"`
	// AgentRSSKiB is the resident set of the agent's main shell when it
	// wrote its result; the whole instrument at each breakdown is
	// Breakdown.Agent.
	AgentRSSKiB *int64 `json:"agentRssKiB,omitempty"`
	API         *API   `json:"api,omitempty"`
	// APISeries is the API probed at a steady interval through the workload
	// phase, beside the final probe (API); nil from older agents and for
	// profiles without a workload or an api hook.
	APISeries *APISeries `json:"apiSeries,omitempty"`
	// OOMKillEvents are the OOM kills the kernel log held when the agent
	// finished, with their time; Breakdown.OOMKills counts them at each
	// breakdown.
	OOMKillEvents []OOMKill   `json:"oomKillEvents,omitempty"`
	Phases        []Phase     `json:"phases"`
	Samples       []Sample    `json:"samples"`
	Breakdowns    []Breakdown `json:"breakdowns,omitempty"`
	// Facts are what the install learned that the figures do not say, as
	// strings by name, e.g. {"preflightIgnored": "NumCPU,Mem"} from a
	// kubeadm install that skipped checks a 1 vCPU / 1 GiB VM fails. Absent
	// from older documents, which read the same.
	Facts map[string]string `json:"facts,omitempty"`
	// APIAnswers are the Kubernetes API server's own answers to the hooks'
	// requests, the first and the last to each path, as it wrote them
	// (headers and body): the evidence behind a readiness verdict, and the
	// fixtures the test stub answers with.
	APIAnswers []APIAnswer `json:"apiAnswers,omitempty"`
	// Timeline is used and available memory from the agent's start to its
	// result, beside the phase samples.
	Timeline *Timeline `json:"timeline,omitempty"`
	// Soak is the long run after the last measured phase, when the stack
	// set footprint:soak; SoakGrowth its fit and verdict, computed by
	// Derive, never by the agent.
	Soak       *Soak   `json:"soak,omitempty"`
	SoakGrowth *Growth `json:"soakGrowth,omitempty"`

	// Filled in by footprint on the host, not by the agent.
	Machine    *Machine    `json:"machine,omitempty"`
	Collection *Collection `json:"collection,omitempty"`
	// HostView is the hypervisor's view of the node at each of the guest's
	// samples, where the backend can see its process.
	HostView []HostSample `json:"hostView,omitempty"`
}

// Variant is a profile with some of its declared options chosen.
type Variant struct {
	Name    string          `json:"name"`
	Options []VariantOption `json:"options"`
}

// VariantOption is one chosen option and the settings it made in the guest.
type VariantOption struct {
	Name string            `json:"name"`
	Env  map[string]string `json:"env"`
}

// OptionNames are the variant's options, in the order chosen.
func (v *Variant) OptionNames() []string {
	if v == nil {
		return nil
	}
	out := make([]string, 0, len(v.Options))
	for _, o := range v.Options {
		out = append(out, o.Name)
	}
	return out
}

// APIAnswer is one answer of a Kubernetes API server: the request's path,
// whether it was the first or the last answer to it, and the raw HTTP answer
// (status line, headers, a blank line, the body; line ends as LF).
type APIAnswer struct {
	Path  string `json:"path"`
	Which string `json:"which"`
	HTTP  string `json:"http"`
}

// Timeline is the agent's time series of memory: points of guest uptime
// (seconds), used and available (KiB), IntervalSeconds apart at the end of
// the run (the agent halves its resolution to stay bounded).
type Timeline struct {
	IntervalSeconds int          `json:"intervalSeconds"`
	Points          [][3]float64 `json:"points"`
	// Pressure is the kernel's memory pressure (/proc/pressure/memory) at
	// the same readings, where the kernel gives it: points of guest uptime
	// (seconds), some avg10 and some total, full avg10 and full total. avg10
	// is the share of the last 10 s in which some (at least one) or all
	// non-idle tasks were stalled waiting for memory, in per cent; total is
	// the stall time since boot, in microseconds. Absent from older agents
	// and from kernels without PSI.
	Pressure [][5]float64 `json:"pressure,omitempty"`
}

// PSI avg10 and total of one reading, by its index in a Pressure point.
const (
	PSISomeAvg10 = 1 + iota
	PSISomeTotal
	PSIFullAvg10
	PSIFullTotal
)

// HostSample is the host's side of one guest sample, taken as the host saw
// the guest's sample line: the QEMU process's resident and proportional set
// sizes and the balloon statistics libvirt reports, by libvirt's names, in
// KiB. Guest and host disagree by design: the host counts every page the
// guest ever touched and has not given back.
type HostSample struct {
	Phase              PhaseName        `json:"phase"`
	GuestUptimeSeconds float64          `json:"guestUptimeSeconds"`
	RSSKiB             int64            `json:"qemuRssKiB"`
	PSSKiB             int64            `json:"qemuPssKiB"`
	BalloonKiB         map[string]int64 `json:"balloonKiB,omitempty"`
}

// HostViewSummary is the median host view of one phase's samples.
type HostViewSummary struct {
	Samples int
	RSSMiB  float64
	PSSMiB  float64
}

// HostViewOf is the median host view of a phase, if the host saw any sample.
func (r Result) HostViewOf(phase PhaseName) (HostViewSummary, bool) {
	var rss, pss []int64
	for _, h := range r.HostView {
		if h.Phase == phase {
			rss = append(rss, h.RSSKiB)
			pss = append(pss, h.PSSKiB)
		}
	}
	if len(rss) == 0 {
		return HostViewSummary{}, false
	}
	return HostViewSummary{Samples: len(rss), RSSMiB: MiB(median(rss)), PSSMiB: MiB(median(pss))}, true
}

// OS is what the guest says it runs.
type OS struct {
	PrettyName string `json:"prettyName"`
	Kernel     string `json:"kernel"`
}

// Settings are the measuring parameters the agent used.
type Settings struct {
	SettleSeconds   int         `json:"settleSeconds"`
	Samples         int         `json:"samples"`
	IntervalSeconds int         `json:"intervalSeconds"`
	SettleRule      *SettleRule `json:"settleRule,omitempty"`
}

// SettleRule is the optional condition a settle phase waits for after its
// fixed time: used memory within ToleranceKiB over the last WindowSeconds,
// for at most MaxSeconds. A phase that hit the cap ends StatusUnsettled.
type SettleRule struct {
	ToleranceKiB  int `json:"toleranceKiB"`
	WindowSeconds int `json:"windowSeconds"`
	MaxSeconds    int `json:"maxSeconds"`
}

// PhaseName names a step of the agent, as the agent's document spells it
// in a phase, a sample, a breakdown and the host's view of a sample.
type PhaseName string

// The agent's phases, in the order it runs them. A profile without a hook
// for install, ready, workloadReady or api has that phase ended skipped;
// one without a workload ends after idle (and the soak).
const (
	PhaseBoot      PhaseName = "boot"      // cloud-init done: the agent starts measuring
	PhaseInstall   PhaseName = "install"   // the install hook (or installOffline)
	PhaseConfigure PhaseName = "configure" // a preinstalled system given a variant's options
	PhaseReady     PhaseName = "ready"     // the ready check, retried
	PhaseSettle    PhaseName = "settle"    // the wait before the idle samples
	PhaseIdle      PhaseName = "idle"      // the idle samples and breakdown
	// PhaseWorkload is both the workload hook and, after it settled, the
	// workload's samples and breakdown: two phases of the same name.
	PhaseWorkload       PhaseName = "workload"
	PhaseWorkloadReady  PhaseName = "workloadReady"   // the workload's readiness check, retried
	PhaseSettleWorkload PhaseName = "settle-workload" // the wait before the workload's samples
	PhaseAPI            PhaseName = "api"             // the probe of the system's API
	PhaseSoak           PhaseName = "soak"            // the long run after the last measured phase
)

// Phases the agent names only on the console: its own start, and its end
// with the node's status once the result is written.
const (
	PhaseAgent PhaseName = "agent"
	PhaseDone  PhaseName = "done"
)

// Phase is one step of the agent, timed in seconds of guest uptime.
type Phase struct {
	Name      PhaseName `json:"name"`
	Status    Status    `json:"status"`
	StartedAt float64   `json:"startedAt"`
	EndedAt   float64   `json:"endedAt"`
}

// Sample is one reading of /proc/meminfo.
type Sample struct {
	Phase         PhaseName `json:"phase"`
	UptimeSeconds float64   `json:"uptimeSeconds"`
	UsedKiB       int64     `json:"usedKiB"`
	FreeUsedKiB   *int64    `json:"freeUsedKiB"`
	// PCPFreeKiB is the free memory on the kernel's per-CPU page lists,
	// which MemAvailable does not count (docs/baseline.md); nil from older
	// agents.
	PCPFreeKiB *int64           `json:"pcpFreeKiB,omitempty"`
	MeminfoKiB map[string]int64 `json:"meminfoKiB"` // every field of /proc/meminfo (HugePages_* are counts)
}

// Breakdown says where the memory of one phase is.
type Breakdown struct {
	Phase        PhaseName         `json:"phase"`
	UnitsKiB     map[string]*int64 `json:"unitsKiB"`   // the profile's systemd units
	CgroupsKiB   map[string]int64  `json:"cgroupsKiB"` // every cgroup of 1 MiB or more
	TopProcesses []Process         `json:"topProcesses"`
	OOMKills     int               `json:"oomKills"`
	KernelLog    []string          `json:"kernelLog,omitempty"` // the last OOM lines
	// ProcessesByCgroup is what the processes of each cgroup hold, by the
	// cgroup's path ("/" for the root); nil from older agents.
	ProcessesByCgroup map[string]ProcessGroup `json:"processesByCgroup,omitempty"`
	// Accounting is the raw readings the used memory is split from.
	Accounting *Accounting `json:"accounting,omitempty"`
	// Agent is what the instrument itself held at the breakdown; nil from
	// older agents.
	Agent *AgentFootprint `json:"agent,omitempty"`

	// Computed by Derive, never by the agent.
	Explained    *Explained       `json:"explained,omitempty"`    // used memory split into parts
	PSSByUnitKiB map[string]int64 `json:"pssByUnitKiB,omitempty"` // processes' PSS summed by unit and pod
}

// AgentFootprint is the measuring agent's own cost at a breakdown, read
// before the breakdown forks anything: its cgroup (the agent's service)
// with memory.current and memory.stat's anon and file, and the proportional
// set size of the processes in it summed (the agent's shell, its timeline
// loop, whatever they run at that moment), in KiB. A figure the agent
// could not read is nil. Not to be confused with Result.AgentRSSKiB, the
// resident set of the agent's main shell alone when it wrote its result.
type AgentFootprint struct {
	Cgroup    string `json:"cgroup"`
	CgroupKiB *int64 `json:"cgroupKiB"`
	AnonKiB   *int64 `json:"anonKiB"`
	FileKiB   *int64 `json:"fileKiB"`
	PSSKiB    *int64 `json:"pssKiB"`
	Processes int    `json:"processes"`
}

// Process is one entry of the top processes by resident memory, with its
// proportional set size (nil where smaps_rollup could not be read, or
// from older agents).
type Process struct {
	PID    int    `json:"pid"`
	Name   string `json:"name"`
	RSSKiB int64  `json:"rssKiB"`
	PSSKiB *int64 `json:"pssKiB,omitempty"`
}

// API is the probe of the system's API after the workload started.
type API struct {
	Client    string       `json:"client"`
	Attempts  []APIAttempt `json:"attempts"`
	Successes int          `json:"successes"`
	Verdict   APIVerdict   `json:"verdict"`
}

// APISeries is the API's answers over time: from the workload's start
// through the settle after it and the workload's samples, one probe every
// IntervalSeconds (from one probe's start to the next's; during the samples,
// right after a sample once the interval has passed).
type APISeries struct {
	IntervalSeconds int        `json:"intervalSeconds"`
	Points          []APIPoint `json:"points"`
}

// APIPoint is one probe of an APISeries: when it started (guest uptime),
// the HTTP code (0: no answer within API_TIMEOUT) and how long it took (nil
// when the hook did not say).
type APIPoint struct {
	UptimeSeconds float64  `json:"uptimeSeconds"`
	HTTPCode      int      `json:"httpCode"`
	Seconds       *float64 `json:"seconds"`
}

// OK is whether the probe was answered 200.
func (p APIPoint) OK() bool { return p.HTTPCode == 200 }

// OOMKill is one process the kernel killed for lack of memory: when (the
// kernel log's stamp, seconds since boot: the timeline's uptime on a guest
// never suspended) and which process.
type OOMKill struct {
	UptimeSeconds float64 `json:"uptimeSeconds"`
	Process       string  `json:"process"`
}

// APIAttempt is one bounded request.
type APIAttempt struct {
	HTTPCode int      `json:"httpCode"`
	Seconds  *float64 `json:"seconds"`
	OK       bool     `json:"ok"`
}

// Latency is the median and maximum of the successful attempts, in seconds.
func (a API) Latency() (median, max float64, ok bool) {
	var v []float64
	for _, at := range a.Attempts {
		if at.OK && at.Seconds != nil {
			v = append(v, *at.Seconds)
		}
	}
	if len(v) == 0 {
		return 0, 0, false
	}
	sort.Float64s(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[n-1], true
}

// BreakdownOf returns the breakdown taken in a phase.
func (r Result) BreakdownOf(phase PhaseName) (Breakdown, bool) {
	for _, b := range r.Breakdowns {
		if b.Phase == phase {
			return b, true
		}
	}
	return Breakdown{}, false
}

// Machine is where the node ran.
type Machine struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	VCPUs     int    `json:"vcpus"`
	MemoryMiB int    `json:"memoryMiB"`
	Repeat    int    `json:"repeat,omitempty"` // 1-based, within profile and size
	// DiskGiB matters: growing the root file system at first boot costs the
	// kernel memory (46 MiB more "used" at 10 GiB than at 2 GiB, measured).
	DiskGiB int `json:"diskGiB,omitempty"`
	// Backend is the machine backend that created it (libvirt, aws); where
	// and how are in the run's experiment record.
	Backend string `json:"backend,omitempty"`
	// DomainType is the hypervisor's kind of machine: libvirt's domain type
	// (kvm, qemu), a cloud's hypervisor family.
	DomainType  string `json:"domainType"`
	Hypervisor  string `json:"hypervisor"`
	Image       string `json:"image"`
	ImageSHA256 string `json:"imageSha256"`
	// Where a cloud ran it: the region, the instance type and the image's id
	// there (an AMI); empty for a local hypervisor.
	Region       string `json:"region,omitempty"`
	InstanceType string `json:"instanceType,omitempty"`
	ImageID      string `json:"imageId,omitempty"`
	// Wave is the round of the run the node ran in (1-based) and Host the
	// host it ran on, where the run was planned in waves.
	Wave int    `json:"wave,omitempty"`
	Host string `json:"host,omitempty"`
}

// Keys of a backend's facts about a machine (machine.Machine.Facts).
const (
	FactRegion       = "region"
	FactInstanceType = "instanceType"
	FactImageID      = "imageId"
	FactImage        = "image" // the image's name, where no local image was booted
)

// Collection is how the host obtained the document.
type Collection struct {
	URL              string   `json:"url"`
	Via              string   `json:"via,omitempty"` // the SSH route to URL, when collected through SSH
	Attempts         int      `json:"attempts"`
	Seconds          float64  `json:"seconds"`
	Error            string   `json:"error,omitempty"`
	LastConsoleLine  string   `json:"lastConsoleLine,omitempty"`
	ConsoleTail      []string `json:"consoleTail,omitempty"` // kept when no result arrived
	ConsoleLogOnHost string   `json:"consoleLogOnHost,omitempty"`
}

// Parse reads and checks an agent document.
func Parse(data []byte) (Result, error) {
	var r Result
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&r); err != nil {
		return Result{}, fmt.Errorf("result is not JSON: %w", err)
	}
	if r.SchemaVersion != AgentSchemaVersion {
		return Result{}, fmt.Errorf("result schema version %d, want %d", r.SchemaVersion, AgentSchemaVersion)
	}
	if r.Node == "" || r.Status == "" {
		return Result{}, fmt.Errorf("result lacks node or status")
	}
	r.Derive()
	return r, nil
}

// Final reports whether the agent is done with this node, whatever the
// verdict.
func (r Result) Final() bool { return r.Status != StatusRunning && r.Status != "" }

// MiB converts KiB to MiB, the unit of every figure footprint reports (the
// seed's `free -m` prints MiB too).
func MiB(kib int64) float64 { return float64(kib) / 1024 }

// Summary is what a report prints of one node and phase.
type Summary struct {
	Phase        PhaseName `json:"phase"`
	Samples      int       `json:"samples"`
	MemTotalMiB  float64   `json:"memTotalMiB"`
	UsedMiB      float64   `json:"usedMiB"` // median of MemTotal - MemAvailable
	UsedMinMiB   float64   `json:"usedMinMiB"`
	UsedMaxMiB   float64   `json:"usedMaxMiB"`
	FreeUsedMiB  float64   `json:"freeUsedMiB,omitempty"` // median of free's own column
	SwapUsedMiB  float64   `json:"swapUsedMiB"`
	AvailableMiB float64   `json:"availableMiB"`
	// With the per-CPU lists counted (every sample has them): the medians
	// of the free memory on them, and of used without it.
	HasPCP     bool    `json:"hasPcp,omitempty"`
	PCPFreeMiB float64 `json:"pcpFreeMiB,omitempty"`
	NetUsedMiB float64 `json:"netUsedMiB,omitempty"`
}

// PCPFullMiB is where a node counts as in the "lists full" state: more free
// memory on the per-CPU lists than this (it was 0.4-5.9 or 45-53 MiB).
const PCPFullMiB = 20

// LastReading is the timeline's last point: the guest's uptime and used
// memory when the agent stopped, what a node that never reached its samples
// still tells of its memory.
func (r Result) LastReading() (uptime float64, usedKiB int64, ok bool) {
	if r.Timeline == nil || len(r.Timeline.Points) == 0 {
		return 0, 0, false
	}
	p := r.Timeline.Points[len(r.Timeline.Points)-1]
	return p[0], int64(p[1]), true
}

// Summarize reduces the samples of one phase; ok is false when there are none.
func (r Result) Summarize(phase PhaseName) (Summary, bool) {
	var used, free, avail, swap, pcp, net []int64
	var total int64
	for _, s := range r.Samples {
		if s.Phase != phase {
			continue
		}
		used = append(used, s.UsedKiB)
		if s.PCPFreeKiB != nil {
			pcp = append(pcp, *s.PCPFreeKiB)
			net = append(net, s.UsedKiB-*s.PCPFreeKiB)
		}
		avail = append(avail, s.MeminfoKiB["MemAvailable"])
		swap = append(swap, s.MeminfoKiB["SwapTotal"]-s.MeminfoKiB["SwapFree"])
		if s.FreeUsedKiB != nil {
			free = append(free, *s.FreeUsedKiB)
		}
		total = s.MeminfoKiB["MemTotal"]
	}
	if len(used) == 0 {
		return Summary{}, false
	}
	lo, hi := minMax(used)
	out := Summary{
		Phase:        phase,
		Samples:      len(used),
		MemTotalMiB:  MiB(total),
		UsedMiB:      MiB(median(used)),
		UsedMinMiB:   MiB(lo),
		UsedMaxMiB:   MiB(hi),
		SwapUsedMiB:  MiB(median(swap)),
		AvailableMiB: MiB(median(avail)),
	}
	if len(free) > 0 {
		out.FreeUsedMiB = MiB(median(free))
	}
	if len(pcp) == len(used) {
		out.HasPCP, out.PCPFreeMiB, out.NetUsedMiB = true, MiB(median(pcp)), MiB(median(net))
	}
	return out, true
}

// PhaseList is "name=status ..." of every phase in order, the shortest way
// to say how far a node got.
func (r Result) PhaseList() string {
	s := make([]string, len(r.Phases))
	for i, p := range r.Phases {
		s[i] = string(p.Name) + "=" + string(p.Status)
	}
	return strings.Join(s, " ")
}

// PhaseSeconds is how long a named phase took, if it ran.
func (r Result) PhaseSeconds(name PhaseName) (float64, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.EndedAt - p.StartedAt, true
		}
	}
	return 0, false
}

// PhaseEnd is the guest uptime at which a named phase ended.
func (r Result) PhaseEnd(name PhaseName) (float64, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.EndedAt, true
		}
	}
	return 0, false
}

func median(v []int64) int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(v []int64) (int64, int64) {
	lo, hi := v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// Steady is the spread of used memory over one measured phase: its samples
// and the timeline's points inside the phase, in MiB.
type Steady struct {
	Readings                          int
	MedianMiB, MinMiB, MaxMiB, P95MiB float64
}

// SteadyState is the steady state of a measured phase (idle, workload): the
// phase's samples and every timeline point taken while it ran, with the
// median, min–max and 95th percentile (nearest rank), as the k3s
// documentation reports resource use.
func (r Result) SteadyState(phase PhaseName) (Steady, bool) {
	var used []int64
	for _, s := range r.Samples {
		if s.Phase == phase {
			used = append(used, s.UsedKiB)
		}
	}
	if len(used) == 0 {
		return Steady{}, false
	}
	if p, ok := r.lastPhase(phase); ok && r.Timeline != nil {
		for _, pt := range r.Timeline.Points {
			if pt[0] >= p.StartedAt && pt[0] <= p.EndedAt {
				used = append(used, int64(pt[1]))
			}
		}
	}
	sort.Slice(used, func(i, j int) bool { return used[i] < used[j] })
	rank := int(math.Ceil(0.95*float64(len(used)))) - 1
	return Steady{Readings: len(used), MedianMiB: MiB(median(used)), MinMiB: MiB(used[0]), MaxMiB: MiB(used[len(used)-1]),
		P95MiB: MiB(used[rank])}, true
}

// lastPhase is the last phase of that name (workload is both a hook and its
// samples; the samples come last).
func (r Result) lastPhase(name PhaseName) (Phase, bool) {
	for i := len(r.Phases) - 1; i >= 0; i-- {
		if r.Phases[i].Name == name {
			return r.Phases[i], true
		}
	}
	return Phase{}, false
}
