package sanitize

import "net/url"

type urlType = url.URL

var parseURL = url.Parse
