package main

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldnews/herald/internal/server/web"
)

// demoImageW and demoImageH are the demo's article pictures' size: the
// digest's image width at 16:9.
const (
	demoImageW = 592
	demoImageH = 333
)

// demoPalette colours each section's pictures.
var demoPalette = map[string][2]color.RGBA{
	"world-news": {{0x1d, 0x4e, 0x89, 255}, {0x9c, 0xc3, 0xe6, 255}},
	"politics":   {{0x7a, 0x1f, 0x2b, 255}, {0xe8, 0xa0, 0x8c, 255}},
	"business":   {{0x1f, 0x5c, 0x3a, 255}, {0xa8, 0xd5, 0xa2, 255}},
	"technology": {{0x3b, 0x2a, 0x6b, 255}, {0xb9, 0xa6, 0xe8, 255}},
	"sport":      {{0x8a, 0x4b, 0x0f, 255}, {0xf2, 0xc9, 0x6d, 255}},
}

// demoImage draws picture name (SECTION-N): a sky and a skyline in the
// section's colours, different for each N. Deterministic, no files, no
// network: the demo's mail and archive show pictures offline.
func demoImage(name string) ([]byte, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return nil, false
	}
	sec, n := name[:i], name[i+1:]
	if _, ok := demoPalette[sec]; !ok {
		return nil, false
	}
	seed, err := strconv.Atoi(n)
	if err != nil || seed < 0 || seed > 1000 {
		return nil, false
	}
	pal := demoPalette[sec]
	img := image.NewRGBA(image.Rect(0, 0, demoImageW, demoImageH))
	h := fnv.New32a()
	h.Write([]byte(name))
	r := h.Sum32()
	for y := 0; y < demoImageH; y++ {
		t := float64(y) / demoImageH
		c := color.RGBA{mix(pal[1].R, pal[0].R, t), mix(pal[1].G, pal[0].G, t), mix(pal[1].B, pal[0].B, t), 255}
		for x := 0; x < demoImageW; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	for x := 0; x < demoImageW; {
		r = r*1664525 + 1013904223
		w := 30 + int(r>>24)%60
		top := demoImageH/3 + int(r>>16)%(demoImageH/2)
		for xx := x; xx < min(x+w-4, demoImageW); xx++ {
			for y := top; y < demoImageH; y++ {
				img.SetRGBA(xx, y, pal[0])
			}
		}
		x += w
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, false
	}
	return b.Bytes(), true
}

func mix(a, b uint8, t float64) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t) }

// demoImages serves the demo's pictures at /demo/images/{name}.png.
type demoImages struct{}

func (demoImages) Register(mux web.Mux) {
	mux.HandleFunc("GET /demo/images/{file}", func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(r.PathValue("file"), ".png")
		b, found := demoImage(name)
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(b)
	})
}
