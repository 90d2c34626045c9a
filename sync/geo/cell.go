package geo

import (
	"fmt"
	"strings"
)

// Radio is the radio access technology of a cell, as the provider names
// it.
type Radio string

// The radios the provider knows. A 5G non-standalone router is served by
// its LTE anchor cell, whose ECI and TAC it reports, so it counts as LTE.
const (
	RadioGSM  Radio = "gsm"
	RadioUMTS Radio = "umts"
	RadioLTE  Radio = "lte"
	RadioNR   Radio = "nr"
)

// Largest cell identities per radio: GSM CI is 16 bits, UTRAN (RNC id and
// cell) and LTE ECI 28 bits, NR NCI 36 bits (3GPP TS 23.003).
const (
	MaxGSMCellID  = 1<<16 - 1
	MaxUMTSCellID = 1<<28 - 1
	MaxLTECellID  = 1<<28 - 1
	MaxNRCellID   = 1<<36 - 1
)

// unavailableCellID is INT32_MAX, which modems and Android report for "no
// cell identity". Within NR's 36-bit range it would be a valid NCI, so it
// is named on its own.
const unavailableCellID = 1<<31 - 1

// Observed is a serving cell as a router reported it (router_status, or a
// parsed reading). Empty strings and nil numbers are unknown: the reading
// parser stores "N/A", "" and null that way.
type Observed struct {
	// NetworkType is the router's text, such as LTE, 5G-NSA or WCDMA.
	NetworkType string
	MCC, MNC    string
	LAC, TAC    *int64
	CellID      *int64
}

// Cell is a cell the provider can be asked about, and the key of the
// cache. Area is the LAC for gsm and umts, the TAC for lte and nr.
type Cell struct {
	Radio    Radio
	MCC, MNC string
	Area     int64
	ID       int64
}

// String names the cell as radio:mcc-mnc:area:id.
func (c Cell) String() string {
	return fmt.Sprintf("%s:%s-%s:%d:%d", c.Radio, c.MCC, c.MNC, c.Area, c.ID)
}

// Locatable is the one placeholder rule: it returns the cell to look up,
// or a reason why o names no real cell, in which case no provider call
// may be made. A cell is not locatable when
//
//   - the radio is unknown (see [RadioOf]) or the MCC, MNC, area code or
//     cell id is missing ("N/A", empty, null);
//   - the area code is a placeholder (0, 65534 or 65535; for NR also the
//     24-bit 16777214 and 16777215) and the cell id is 0 or 65535 too;
//   - the cell id is 2147483647 (INT32_MAX, "unavailable") or above the
//     radio's range: 65535 for gsm, 268435455 for umts and lte (28 bits),
//     2^36-1 for nr.
//
// A cell id of 0 with a real area code is a real cell and is locatable.
// The area is the TAC for lte and nr and the LAC for gsm and umts; when a
// router fills only the other field, that one is used.
func Locatable(o Observed) (Cell, string) {
	radio, ok := RadioOf(o.NetworkType)
	if !ok {
		return Cell{}, fmt.Sprintf("unknown radio (network type %q)", o.NetworkType)
	}
	mcc, mnc := strings.TrimSpace(o.MCC), strings.TrimSpace(o.MNC)
	if mcc == "" || mnc == "" || !digits(mcc) || !digits(mnc) {
		return Cell{}, fmt.Sprintf("no PLMN (mcc %q, mnc %q)", o.MCC, o.MNC)
	}

	area := areaOf(radio, o)
	switch {
	case area == nil:
		return Cell{}, "no area code"
	case o.CellID == nil:
		return Cell{}, "no cell id"
	}
	c := Cell{Radio: radio, MCC: mcc, MNC: mnc, Area: *area, ID: *o.CellID}

	if reason := placeholder(c); reason != "" {
		return Cell{}, reason
	}
	return c, ""
}

// placeholder returns why c's numbers name no cell, or "".
func placeholder(c Cell) string {
	switch {
	case c.Area < 0 || c.ID < 0:
		return "negative area code or cell id"
	case placeholderArea(c.Radio, c.Area) && (c.ID == 0 || c.ID == 65535):
		return fmt.Sprintf("placeholder area %d with cell id %d", c.Area, c.ID)
	case c.ID == unavailableCellID:
		return fmt.Sprintf("cell id %d means unavailable", c.ID)
	case c.ID > maxCellID(c.Radio):
		return fmt.Sprintf("cell id %d above the %s range (%d)", c.ID, c.Radio, maxCellID(c.Radio))
	}
	return ""
}

func placeholderArea(r Radio, area int64) bool {
	switch area {
	case 0, 65534, 65535:
		return true
	case 1<<24 - 2, 1<<24 - 1:
		return r == RadioNR
	}
	return false
}

func maxCellID(r Radio) int64 {
	switch r {
	case RadioGSM:
		return MaxGSMCellID
	case RadioUMTS:
		return MaxUMTSCellID
	case RadioLTE:
		return MaxLTECellID
	}
	return MaxNRCellID
}

// areaOf picks the area code the radio uses, or the other one when only
// that is known.
func areaOf(r Radio, o Observed) *int64 {
	first, second := o.LAC, o.TAC
	if r == RadioLTE || r == RadioNR {
		first, second = o.TAC, o.LAC
	}
	if first != nil {
		return first
	}
	return second
}

// RadioOf maps a router's network type to the provider's radio. It knows
// the RutOS and modem spellings: LTE, 4G, LTE-A, CAT-M1, NB-IoT → lte;
// 5G-NSA (and EN-DC) → lte, since the serving cell reported is the LTE
// anchor; 5G, 5G-SA, NR, NR5G → nr; WCDMA, UMTS, HSPA, HSDPA, HSUPA,
// HSPA+, 3G, TD-SCDMA → umts; GSM, GPRS, EDGE, 2G → gsm. Anything else,
// the empty string included, is unknown.
func RadioOf(networkType string) (Radio, bool) {
	t := strings.ToUpper(strings.TrimSpace(networkType))
	t = strings.NewReplacer(" ", "", "_", "-", "(", "", ")", "").Replace(t)
	switch {
	case t == "":
		return "", false
	case strings.Contains(t, "NSA") || strings.Contains(t, "EN-DC") || strings.Contains(t, "ENDC"):
		return RadioLTE, true
	case strings.HasPrefix(t, "5G") || strings.HasPrefix(t, "NR"):
		return RadioNR, true
	case strings.Contains(t, "LTE") || strings.HasPrefix(t, "4G") || strings.HasPrefix(t, "CAT-M") ||
		strings.HasPrefix(t, "NB-IOT") || t == "E-UTRAN":
		return RadioLTE, true
	case strings.Contains(t, "WCDMA") || strings.Contains(t, "UMTS") || strings.Contains(t, "HSPA") ||
		strings.Contains(t, "HSDPA") || strings.Contains(t, "HSUPA") || strings.HasPrefix(t, "3G") ||
		strings.Contains(t, "TD-SCDMA") || t == "UTRAN":
		return RadioUMTS, true
	case t == "GSM" || t == "GPRS" || t == "EDGE" || strings.HasPrefix(t, "2G"):
		return RadioGSM, true
	}
	return "", false
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(s) <= 3
}
