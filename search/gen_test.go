package search

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/khantara/khantara/protocol"
	"github.com/khantara/khantara/store"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// The benchmark catalogue: deterministic synthetic practices in ten
// languages, with vocabulary of the field, varied countries, dimensions,
// funding and years, valid under protocol v1.

// genVersion names the generator's output; bump it when the generator
// changes, so cached stores are not reused.
const genVersion = "v1"

// genPublishers is how many publishers share the catalogue.
const genPublishers = 300

// genLang is one language of the generator: its vocabulary (most common
// first: words are drawn with a Zipf law), the countries that publish in
// it, and words for organisers.
type genLang struct {
	tag       string
	countries []string
	cities    []string
	orgs      []string
	words     []string
}

var genLangs = []genLang{
	{"en", []string{"GB", "IE", "MT"}, []string{"London", "Dublin", "Manchester", "Glasgow", "Cork", "Valletta", "Leeds", "Belfast"},
		[]string{"City Council", "County Council", "Borough", "Integration Office"},
		strings.Fields(`integration migrants community support language training employment refugees services local
		project women children families education housing health information advice volunteers network partners
		newcomers asylum seekers citizenship culture intercultural dialogue inclusion workshops mentoring youth
		skills jobs schools parents participation civic rights discrimination equality outreach counselling
		entrepreneurs business orientation residents neighbourhood festival library sport mediation interpreters
		reception accommodation qualifications recognition apprenticeships literacy classes social cohesion`)},
	{"it", []string{"IT", "SM"}, []string{"Milano", "Roma", "Torino", "Palermo", "Napoli", "Bologna", "Venezia", "Bari"},
		[]string{"Comune di", "Regione", "Provincia di", "Ufficio Immigrazione"},
		strings.Fields(`integrazione migranti comunità sostegno lingua formazione lavoro rifugiati servizi territorio
		progetto donne bambini famiglie scuola abitazione salute informazione orientamento volontari rete
		partner accoglienza richiedenti asilo cittadinanza cultura intercultura dialogo inclusione laboratori
		tutoraggio giovani competenze occupazione genitori partecipazione diritti discriminazione uguaglianza
		mediazione sportello imprenditori impresa residenti quartiere festa biblioteca sport interpreti
		alloggio qualifiche riconoscimento tirocini alfabetizzazione corsi coesione sociale inserimento lavorativo`)},
	{"fr", []string{"FR", "BE", "LU"}, []string{"Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bruxelles", "Liège", "Toulouse"},
		[]string{"Ville de", "Conseil départemental", "Région", "Maison de l'intégration"},
		strings.Fields(`intégration migrants communauté soutien langue formation emploi réfugiés services quartier
		projet femmes enfants familles école logement santé information orientation bénévoles réseau
		partenaires accueil demandeurs asile citoyenneté culture interculturel dialogue inclusion ateliers
		parrainage jeunes compétences métiers parents participation droits discrimination égalité médiation
		permanence entrepreneurs entreprise habitants voisinage fête bibliothèque sport interprètes
		hébergement qualifications reconnaissance apprentissage alphabétisation cours cohésion sociale insertion`)},
	{"de", []string{"DE", "AT", "CH"}, []string{"Berlin", "Hamburg", "München", "Wien", "Köln", "Frankfurt", "Graz", "Erfurt"},
		[]string{"Stadt", "Landkreis", "Land", "Integrationsbüro"},
		strings.Fields(`Integration Migranten Gemeinschaft Unterstützung Sprache Ausbildung Arbeit Flüchtlinge Dienste
		Stadtteil Projekt Frauen Kinder Familien Schule Wohnung Gesundheit Information Beratung Ehrenamtliche
		Netzwerk Partner Aufnahme Asylsuchende Staatsbürgerschaft Kultur interkulturell Dialog Teilhabe
		Workshops Patenschaften Jugendliche Kompetenzen Beschäftigung Eltern Beteiligung Rechte Diskriminierung
		Gleichstellung Vermittlung Anlaufstelle Unternehmer Betriebe Bewohner Nachbarschaft Fest Bibliothek
		Sport Dolmetscher Unterkunft Qualifikationen Anerkennung Praktika Alphabetisierung Kurse Zusammenhalt
		Kindergärten Sprachförderung Integrationskurse`)},
	{"es", []string{"ES"}, []string{"Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Málaga", "Murcia"},
		[]string{"Ayuntamiento de", "Diputación de", "Comunidad de", "Oficina de Integración"},
		strings.Fields(`integración inmigrantes comunidad apoyo idioma formación empleo refugiados servicios barrio
		proyecto mujeres niños familias escuela vivienda salud información orientación voluntarios red socios
		acogida solicitantes asilo ciudadanía cultura intercultural diálogo inclusión talleres mentoría jóvenes
		competencias trabajo padres participación derechos discriminación igualdad mediación oficina
		emprendedores empresa vecinos convivencia fiesta biblioteca deporte intérpretes alojamiento
		cualificaciones reconocimiento prácticas alfabetización cursos cohesión social inserción laboral`)},
	{"pl", []string{"PL"}, []string{"Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Lublin", "Katowice"},
		[]string{"Urząd Miasta", "Województwo", "Powiat", "Centrum Integracji"},
		strings.Fields(`integracja cudzoziemcy cudzoziemców imigranci społeczność wsparcie język szkolenia praca uchodźcy
		usługi dzielnica projekt kobiety dzieci rodziny szkoła mieszkanie zdrowie informacja doradztwo
		wolontariusze sieć partnerzy przyjmowanie azyl obywatelstwo kultura międzykulturowy dialog włączenie
		warsztaty mentoring młodzież kompetencje zatrudnienie rodzice uczestnictwo prawa dyskryminacja
		równość mediacja punkt przedsiębiorcy firma mieszkańcy sąsiedztwo festyn biblioteka sport tłumacze
		zakwaterowanie kwalifikacje uznawanie staże kursy spójność społeczna urzędzie`)},
	{"el", []string{"GR", "CY"}, []string{"Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Ηράκλειο", "Λάρισα", "Βόλος", "Λευκωσία", "Ιωάννινα"},
		[]string{"Δήμος", "Περιφέρεια", "Κέντρο Ένταξης", "Γραφείο Μεταναστών"},
		strings.Fields(`ένταξη μετανάστες κοινότητα υποστήριξη γλώσσα εκπαίδευση εργασία πρόσφυγες υπηρεσίες γειτονιά
		πρόγραμμα γυναίκες παιδιά οικογένειες σχολείο στέγαση υγεία πληροφόρηση συμβουλευτική εθελοντές
		δίκτυο εταίροι υποδοχή άσυλο ιθαγένεια πολιτισμός διαπολιτισμικός διάλογος συμμετοχή εργαστήρια
		νέοι δεξιότητες απασχόληση γονείς δικαιώματα διακρίσεις ισότητα διαμεσολάβηση επιχειρηματίες
		κάτοικοι γιορτή βιβλιοθήκη αθλητισμός διερμηνείς διαμονή προσόντα αναγνώριση μαθήματα συνοχή
		μετανάστριες μητέρες`)},
	{"nl", []string{"NL", "BE"}, []string{"Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Antwerpen", "Gent", "Eindhoven", "Leuven"},
		[]string{"Gemeente", "Provincie", "Stad", "Integratiecentrum"},
		strings.Fields(`integratie migranten gemeenschap ondersteuning taal opleiding werk vluchtelingen diensten wijk
		project vrouwen kinderen gezinnen school huisvesting gezondheid informatie begeleiding vrijwilligers
		netwerk partners opvang asielzoekers burgerschap cultuur intercultureel dialoog inclusie workshops
		mentoring jongeren vaardigheden werkgelegenheid ouders participatie rechten discriminatie gelijkheid
		bemiddeling loket ondernemers bedrijven bewoners buurt feest bibliotheek sport tolken
		onderdak kwalificaties erkenning stages geletterdheid cursussen samenhang inburgering`)},
	{"fi", []string{"FI"}, []string{"Helsinki", "Espoo", "Tampere", "Vantaa", "Oulu", "Turku", "Jyväskylä", "Lahti"},
		[]string{"Kaupunki", "Kunta", "Maakunta", "Maahanmuuttajapalvelut"},
		strings.Fields(`kotoutuminen maahanmuuttajat yhteisö tuki kieli koulutus työ pakolaiset palvelut asuinalue hanke
		naiset lapset perheet koulu asuminen terveys tiedotus neuvonta vapaaehtoiset verkosto kumppanit
		vastaanotto turvapaikanhakijat kansalaisuus kulttuuri kulttuurienvälinen vuoropuhelu osallisuus
		työpajat mentorointi nuoret osaaminen työllisyys vanhemmat osallistuminen oikeudet syrjintä tasa-arvo
		sovittelu yrittäjät yritys asukkaat naapurusto juhla kirjasto liikunta tulkit majoitus pätevyys
		tunnustaminen harjoittelu lukutaito kurssit yhteenkuuluvuus vertaistuki`)},
	{"sv", []string{"SE", "FI"}, []string{"Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Umeå"},
		[]string{"Kommun", "Region", "Länsstyrelsen", "Integrationsenheten"},
		strings.Fields(`integration invandrare gemenskap stöd språk utbildning arbete flyktingar tjänster stadsdel projekt
		kvinnor barn familjer skola bostad hälsa information rådgivning volontärer nätverk partner mottagande
		asylsökande medborgarskap kultur interkulturell dialog inkludering workshoppar mentorskap ungdomar
		kompetens sysselsättning föräldrar delaktighet rättigheter diskriminering jämställdhet medling
		företagare företag boende grannskap fest bibliotek idrott tolkar boende kvalifikationer validering
		praktik läskunnighet kurser sammanhållning doulor`)},
}

// genCountriesExtra are other countries a practice may be in.
var genCountriesExtra = []string{"PT", "RO", "HU", "CZ", "SK", "SI", "HR", "BG", "DK", "LT", "LV", "EE"}

// genSheet returns practice i of the benchmark catalogue. It is a
// function of i only.
func genSheet(i int) *protocol.FactSheet {
	r := rand.New(rand.NewPCG(uint64(i), 0x6b68616e74617261))
	l := &genLangs[i%len(genLangs)]
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(l.words)-1))
	words := func(n int) string {
		var b strings.Builder
		for j := range n {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(l.words[zipf.Uint64()])
		}
		return b.String()
	}
	sentences := func(n int) string {
		var b strings.Builder
		for j := range n {
			if j > 0 {
				b.WriteByte(' ')
			}
			s := words(6 + r.IntN(10))
			b.WriteString(capitalize(s) + ".")
		}
		return b.String()
	}
	city := l.cities[r.IntN(len(l.cities))]
	country := l.countries[r.IntN(len(l.countries))]
	if r.IntN(10) == 0 {
		country = genCountriesExtra[r.IntN(len(genCountriesExtra))]
	}
	s := &protocol.FactSheet{
		ID:               fmt.Sprintf("%s-%s-%06d", l.tag, slug(l.words[r.IntN(len(l.words))]), i),
		Title:            capitalize(words(4+r.IntN(6))) + " " + city,
		Language:         l.tag,
		Summary:          sentences(3 + r.IntN(4)),
		Country:          country,
		City:             city,
		Organiser:        l.orgs[r.IntN(len(l.orgs))] + " " + city,
		StartYear:        1990 + r.IntN(36),
		Objective:        sentences(2 + r.IntN(3)),
		Dimensions:       pickSome(r, protocol.Dimensions, 1, 3),
		Issues:           pickSome(r, protocol.Issues, 1, 5),
		IssuesText:       sentences(1 + r.IntN(2)),
		TargetGroups:     pickSome(r, protocol.TargetGroups, 1, 5),
		TargetGroupsText: sentences(1 + r.IntN(2)),
		Assistance:       sentences(2 + r.IntN(2)),
		Activities:       sentences(3 + r.IntN(4)),
		Outcomes:         sentences(2 + r.IntN(4)),
		Achievement:      protocol.Achievements[r.IntN(len(protocol.Achievements))],
		Evaluation:       protocol.Evaluations[r.IntN(len(protocol.Evaluations))],
		Transferability:  &protocol.Transferability{Replicable: ptr(r.IntN(4) > 0), Lessons: sentences(1 + r.IntN(3))},
	}
	switch r.IntN(10) {
	case 0, 1, 2, 3:
		s.Ongoing = true
	case 4, 5:
	default:
		s.EndYear = min(s.StartYear+r.IntN(7), protocol.MaxYear)
	}
	if r.IntN(20) > 0 {
		f := &protocol.Funding{Sources: pickSome(r, protocol.FundingSources, 1, 3)}
		if r.IntN(7) > 0 {
			f.AmountEUR = ptr(int64(math.Pow(10, 3+r.Float64()*4.7))) // 1k to 50M, log-uniform
		}
		s.Funding = f
	}
	if r.IntN(5) > 0 {
		s.Beneficiaries = ptr(int64(math.Pow(10, 1+r.Float64()*4)))
	}
	if l.tag != "en" && r.IntN(3) == 0 {
		en := &genLangs[0]
		s.Translations = map[string]protocol.Translation{"en": {
			Title:     "Integration " + en.words[r.IntN(len(en.words))] + " " + city,
			Summary:   genText(r, en, 3),
			Objective: genText(r, en, 2),
		}}
	}
	if r.IntN(10) == 0 {
		o := &genLangs[r.IntN(len(genLangs))]
		if o.tag != l.tag {
			if s.Translations == nil {
				s.Translations = map[string]protocol.Translation{}
			}
			s.Translations[o.tag] = protocol.Translation{Title: genText(r, o, 1), Summary: genText(r, o, 2)}
		}
	}
	return s
}

// genText returns n sentences in language l, words drawn uniformly.
func genText(r *rand.Rand, l *genLang, n int) string {
	var b strings.Builder
	for j := range n {
		if j > 0 {
			b.WriteByte(' ')
		}
		for k := range 6 + r.IntN(8) {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(l.words[r.IntN(len(l.words))])
		}
		b.WriteByte('.')
	}
	return b.String()
}

// pickSome returns between lo and hi distinct values of vocab, in vocab order.
func pickSome(r *rand.Rand, vocab []string, lo, hi int) []string {
	n := lo + r.IntN(hi-lo+1)
	idx := r.Perm(len(vocab))[:n]
	var out []string
	for i, v := range vocab {
		for _, j := range idx {
			if j == i {
				out = append(out, v)
			}
		}
	}
	return out
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// slug makes an ID part of a word: ASCII letters only.
func slug(w string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(w) {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// genKey returns publisher p's key.
func genKey(p int) crypto.PrivKey {
	s := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("khantara-search-bench"), uint64(p)))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s[:]))
	if err != nil {
		panic(err)
	}
	return k
}

// benchStore returns a store holding the first n practices of the
// benchmark catalogue, from genPublishers publishers. The store is kept
// in a directory under os.TempDir() named by genVersion and n, and
// reused by later runs; only one process can use it at a time.
func benchStore(b testing.TB, n int) *store.Store {
	b.Helper()
	keys := genKeys()
	return cachedStore(b, benchStoreDir(n), n, func(i int) (*protocol.Signed, error) {
		a := &protocol.Announcement{V: protocol.Version, Seq: uint64(i/genPublishers + 1),
			Time: testNow.Add(time.Duration(i) * time.Second), Kind: protocol.KindPractice, Practice: genSheet(i)}
		return protocol.Seal(a, keys[i%genPublishers])
	})
}

// genKeys returns the keys of the generator's publishers.
func genKeys() []crypto.PrivKey {
	keys := make([]crypto.PrivKey, genPublishers)
	for p := range keys {
		keys[p] = genKey(p)
	}
	return keys
}

// cachedStore returns the store in dir holding the records seal(0) to
// seal(n-1), which it makes (sealing on every core) and applies in
// chunks unless a previous run left the store complete.
func cachedStore(b testing.TB, dir string, n int, seal func(i int) (*protocol.Signed, error)) *store.Store {
	b.Helper()
	done := filepath.Join(filepath.Dir(dir), "complete")
	if _, err := os.Stat(done); err != nil {
		if err := os.RemoveAll(filepath.Dir(dir)); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(dir) // the node's defaults
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := os.Stat(done); err == nil {
		return st
	}
	start := time.Now()
	const chunk = 2000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		in := make([]store.Incoming, hi-lo)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				for i := lo + w; i < hi; i += workers {
					signed, err := seal(i)
					if err != nil {
						errs[w] = fmt.Errorf("record %d: %w", i, err)
						return
					}
					in[i-lo] = store.Incoming{Signed: signed}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.Apply(context.Background(), in...); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(done, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated and stored %d records in %v (cached in %s)", n, time.Since(start).Round(time.Millisecond), filepath.Dir(dir))
	return st
}

// benchStoreDir is where benchStore keeps the store of n practices.
func benchStoreDir(n int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("khantara-search-bench-%s-%d", genVersion, n), "store")
}

// TestGenerator checks that generated practices are valid, varied and
// deterministic.
func TestGenerator(t *testing.T) {
	langs, countries := map[string]int{}, map[string]int{}
	translated := 0
	for i := range 2000 {
		s := genSheet(i)
		if err := s.Validate(); err != nil {
			t.Fatalf("practice %d: %v", i, err)
		}
		langs[s.Language]++
		countries[s.Country]++
		if len(s.Translations) > 0 {
			translated++
		}
	}
	if len(langs) != len(genLangs) || len(countries) < 20 || translated < 400 {
		t.Errorf("not varied: %d languages, %d countries, %d translated", len(langs), len(countries), translated)
	}
	if a, b := genSheet(7), genSheet(7); a.Title != b.Title || a.Summary != b.Summary {
		t.Error("the generator is not deterministic")
	}
}
