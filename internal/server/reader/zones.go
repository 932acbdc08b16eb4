package reader

import "slices"

// zones is the time zone list of the subscribe form and the preferences
// page: at least one IANA zone for every offset in use, the large cities'
// own, and every zone with a half- or quarter-hour offset. The browser's
// zone (Intl, assets/zone.js) is added when it is not among them; without
// JavaScript the reader picks from the list.
var zones = []string{
	"Africa/Abidjan", "Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi", "Africa/Casablanca",
	"America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota", "America/Caracas", "America/Chicago",
	"America/Denver", "America/Halifax", "America/Havana", "America/Lima", "America/Los_Angeles", "America/Mexico_City",
	"America/New_York", "America/Noronha", "America/Phoenix", "America/Santiago", "America/Sao_Paulo", "America/St_Johns",
	"America/Toronto", "America/Vancouver", "America/Nuuk",
	"Asia/Almaty", "Asia/Baghdad", "Asia/Bangkok", "Asia/Colombo", "Asia/Dhaka", "Asia/Dubai", "Asia/Hong_Kong",
	"Asia/Jakarta", "Asia/Jerusalem", "Asia/Kabul", "Asia/Karachi", "Asia/Kathmandu", "Asia/Kolkata", "Asia/Manila",
	"Asia/Riyadh", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Tehran", "Asia/Tokyo", "Asia/Yangon",
	"Asia/Tashkent", "Asia/Vladivostok", "Asia/Kamchatka",
	"Atlantic/Azores", "Atlantic/Cape_Verde", "Atlantic/Reykjavik", "Atlantic/South_Georgia",
	"Australia/Adelaide", "Australia/Brisbane", "Australia/Darwin", "Australia/Eucla", "Australia/Lord_Howe",
	"Australia/Perth", "Australia/Sydney",
	"Europe/Amsterdam", "Europe/Athens", "Europe/Berlin", "Europe/Dublin", "Europe/Helsinki", "Europe/Istanbul",
	"Europe/Kyiv", "Europe/Lisbon", "Europe/London", "Europe/Madrid", "Europe/Moscow", "Europe/Paris", "Europe/Rome",
	"Europe/Samara", "Europe/Stockholm", "Europe/Vienna", "Europe/Warsaw", "Europe/Zurich",
	"Indian/Maldives", "Indian/Mauritius",
	"Pacific/Apia", "Pacific/Auckland", "Pacific/Chatham", "Pacific/Fiji", "Pacific/Guam", "Pacific/Honolulu",
	"Pacific/Kiritimati", "Pacific/Marquesas", "Pacific/Noumea", "Pacific/Pago_Pago", "Pacific/Tongatapu",
	"UTC",
}

// zoneList is the zone list with current (a reader's own zone) in it.
func zoneList(current string) []string {
	if current == "" || slices.Contains(zones, current) {
		return zones
	}
	out := append(slices.Clone(zones), current)
	slices.Sort(out)
	return out
}
