package results

import (
	"math"
)

// Soak is the long run after a node's last measured phase (footprint:soak):
// used memory read every IntervalSeconds (at the end: the agent doubles it
// when its series is full, keeping every other point) for DurationSeconds.
// Each point is [uptime s, used KiB, per-CPU free KiB]; the third is absent
// where the agent could not read the per-CPU lists.
type Soak struct {
	DurationSeconds int         `json:"durationSeconds"`
	IntervalSeconds int         `json:"intervalSeconds"`
	Points          [][]float64 `json:"points"`
}

// SoakVerdict is what the growth rule (GrowthOf) says of a soak.
type SoakVerdict string

// Soak verdicts.
const (
	SoakGrowing SoakVerdict = "growing"
	SoakStable  SoakVerdict = "stable"
)

// The verdict's rule (GrowthOf): growing when the 95 % interval of the
// slope lies above GrowingMinRateMiBPerHour and the fitted growth over the
// soak exceeds both GrowingMinMiB and GrowingMinShare of the first reading.
const (
	GrowingMinRateMiBPerHour = 1.0
	// 5 MiB and 2 %: a node right after its measured phases still settles
	// by a few MiB (bare on the Docker image: +2.6 MiB in a two-minute soak
	// on 2026-12-07), which is no leak.
	GrowingMinMiB   = 5.0
	GrowingMinShare = 0.02
)

// GrowingRule is the rule in one sentence, for the report.
const GrowingRule = "growing when the 95 % interval of the slope lies above 1 MiB/h and the fitted growth over the soak " +
	"exceeds the larger of 5 MiB and 2 % of the first reading; else stable"

// Growth is the least-squares fit of used memory against time over a soak:
// of used without the free pages on the per-CPU lists where every point
// counted them (NetOfPCP), else of used.
type Growth struct {
	Readings        int     `json:"readings"`
	DurationSeconds float64 `json:"durationSeconds"` // from the first reading to the last
	NetOfPCP        bool    `json:"netOfPcp"`
	// RateMiBPerHour is the slope, StdErrMiBPerHour its standard error, and
	// Low95 and High95 its 95 % interval (Student's t, n − 2 degrees of
	// freedom), all in MiB per hour.
	RateMiBPerHour   float64 `json:"rateMiBPerHour"`
	StdErrMiBPerHour float64 `json:"stdErrMiBPerHour"`
	Low95MiBPerHour  float64 `json:"low95MiBPerHour"`
	High95MiBPerHour float64 `json:"high95MiBPerHour"`
	// GrowthMiB is the fitted growth over the soak (slope × duration);
	// FirstMiB the first reading.
	GrowthMiB float64     `json:"growthMiB"`
	FirstMiB  float64     `json:"firstMiB"`
	Verdict   SoakVerdict `json:"verdict"`
}

// GrowthOf fits a soak's points: the slope of used memory (without the
// per-CPU free lists where every point counted them) against time, its
// standard error and 95 % interval, and the verdict by GrowingRule. ok is
// false with fewer than three readings or none apart in time. The verdict
// is the rule's, not a proof: a leak too slow for the soak reads stable, a
// large enough one-off step of used reads growing.
func GrowthOf(s Soak) (Growth, bool) {
	net := true
	for _, p := range s.Points {
		if len(p) < 2 {
			return Growth{}, false
		}
		net = net && len(p) >= 3
	}
	n := len(s.Points)
	if n < 3 {
		return Growth{}, false
	}
	xs := make([]float64, n)
	ys := make([]float64, n)
	for i, p := range s.Points {
		xs[i] = p[0] / 3600 // hours
		y := p[1]
		if net {
			y -= p[2]
		}
		ys[i] = y / 1024 // MiB
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if sxx == 0 {
		return Growth{}, false
	}
	slope := sxy / sxx
	var rss float64
	for i := range xs {
		r := ys[i] - (my + slope*(xs[i]-mx))
		rss += r * r
	}
	se := math.Sqrt(rss / float64(n-2) / sxx)
	t := tQuantile975(n - 2)
	dur := (s.Points[n-1][0] - s.Points[0][0])
	g := Growth{
		Readings: n, DurationSeconds: dur, NetOfPCP: net,
		RateMiBPerHour: slope, StdErrMiBPerHour: se,
		Low95MiBPerHour: slope - t*se, High95MiBPerHour: slope + t*se,
		GrowthMiB: slope * dur / 3600, FirstMiB: ys[0],
		Verdict: SoakStable,
	}
	if g.Low95MiBPerHour > GrowingMinRateMiBPerHour && g.GrowthMiB > max(GrowingMinMiB, GrowingMinShare*g.FirstMiB) {
		g.Verdict = SoakGrowing
	}
	return g, true
}

// t975 are Student's t 0.975 quantiles for 1 to 30 degrees of freedom.
var t975 = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// tQuantile975 is Student's t 0.975 quantile for df degrees of freedom: the
// table to 30, beyond it the Cornish-Fisher expansion about the normal
// quantile (within 1e-4 there).
func tQuantile975(df int) float64 {
	if df < 1 {
		return math.Inf(1)
	}
	if df <= len(t975) {
		return t975[df-1]
	}
	z, v := 1.959963985, float64(df)
	z3, z5, z7, z9 := z*z*z, math.Pow(z, 5), math.Pow(z, 7), math.Pow(z, 9)
	return z + (z3+z)/(4*v) + (5*z5+16*z3+3*z)/(96*v*v) + (3*z7+19*z5+17*z3-15*z)/(384*v*v*v) +
		(79*z9+776*z7+1482*z5-1920*z3-945*z)/(92160*v*v*v*v)
}
