package export

// countryBase is the EU Publications Office's Country authority table, the
// vocabulary DCAT-AP uses for dct:spatial.
const countryBase = "http://publications.europa.eu/resource/authority/country/"

// CountryURI returns the EU Country authority URI of an ISO 3166-1 alpha-2
// code as protocol v1 accepts it ("IT" gives
// http://publications.europa.eu/resource/authority/country/ITA), or "" when
// the code is unknown or names no territory (EZ, UN, CS).
func CountryURI(alpha2 string) string {
	if c := euCountries[alpha2]; c != "" {
		return countryBase + c
	}
	return ""
}

// euCountries maps every code protocol v1 accepts as a country (an ISO
// 3166-1 alpha-2 code, current or former, that golang.org/x/text knows as a
// country, less UK) to its authority code in the EU Country table. The
// authority code is the ISO 3166-1 alpha-3 code except where the EU table
// made its own (Kosovo 1A0, Zaire ZR0, the French Southern Territories
// FQ0). Exceptionally reserved codes without a concept of their own map to
// the territory that contains them; "" means no concept fits. A test keeps
// the keys equal to what protocol accepts.
var euCountries = map[string]string{
	"AC": "SHN", // Ascension Island: part of Saint Helena, Ascension and Tristan da Cunha
	"AD": "AND", // Andorra
	"AE": "ARE", // United Arab Emirates
	"AF": "AFG", // Afghanistan
	"AG": "ATG", // Antigua & Barbuda
	"AI": "AIA", // Anguilla
	"AL": "ALB", // Albania
	"AM": "ARM", // Armenia
	"AN": "ANT", // Netherlands Antilles (former code)
	"AO": "AGO", // Angola
	"AQ": "ATA", // Antarctica
	"AR": "ARG", // Argentina
	"AS": "ASM", // American Samoa
	"AT": "AUT", // Austria
	"AU": "AUS", // Australia
	"AW": "ABW", // Aruba
	"AX": "ALA", // Åland Islands
	"AZ": "AZE", // Azerbaijan
	"BA": "BIH", // Bosnia & Herzegovina
	"BB": "BRB", // Barbados
	"BD": "BGD", // Bangladesh
	"BE": "BEL", // Belgium
	"BF": "BFA", // Burkina Faso
	"BG": "BGR", // Bulgaria
	"BH": "BHR", // Bahrain
	"BI": "BDI", // Burundi
	"BJ": "BEN", // Benin
	"BL": "BLM", // St. Barthélemy
	"BM": "BMU", // Bermuda
	"BN": "BRN", // Brunei
	"BO": "BOL", // Bolivia
	"BQ": "BES", // Caribbean Netherlands
	"BR": "BRA", // Brazil
	"BS": "BHS", // Bahamas
	"BT": "BTN", // Bhutan
	"BU": "BUR", // Burma (former code of MM)
	"BV": "BVT", // Bouvet Island
	"BW": "BWA", // Botswana
	"BY": "BLR", // Belarus
	"BZ": "BLZ", // Belize
	"CA": "CAN", // Canada
	"CC": "CCK", // Cocos (Keeling) Islands
	"CD": "COD", // Congo - Kinshasa
	"CF": "CAF", // Central African Republic
	"CG": "COG", // Congo - Brazzaville
	"CH": "CHE", // Switzerland
	"CI": "CIV", // Côte d’Ivoire
	"CK": "COK", // Cook Islands
	"CL": "CHL", // Chile
	"CM": "CMR", // Cameroon
	"CN": "CHN", // China
	"CO": "COL", // Colombia
	"CP": "CPT", // Clipperton Island
	"CQ": "GGY", // Sark: part of the Bailiwick of Guernsey
	"CR": "CRI", // Costa Rica
	"CS": "",    // Serbia and Montenegro (former code): no concept of its own
	"CT": "CTE", // Canton and Enderbury Islands (former code)
	"CU": "CUB", // Cuba
	"CV": "CPV", // Cape Verde
	"CW": "CUW", // Curaçao
	"CX": "CXR", // Christmas Island
	"CY": "CYP", // Cyprus
	"CZ": "CZE", // Czechia
	"DD": "DDR", // German Democratic Republic (former code)
	"DE": "DEU", // Germany
	"DG": "IOT", // Diego Garcia: part of the British Indian Ocean Territory
	"DJ": "DJI", // Djibouti
	"DK": "DNK", // Denmark
	"DM": "DMA", // Dominica
	"DO": "DOM", // Dominican Republic
	"DY": "DHY", // Dahomey (former code of BJ)
	"DZ": "DZA", // Algeria
	"EA": "ESP", // Ceuta and Melilla: part of Spain
	"EC": "ECU", // Ecuador
	"EE": "EST", // Estonia
	"EG": "EGY", // Egypt
	"EH": "ESH", // Western Sahara
	"ER": "ERI", // Eritrea
	"ES": "ESP", // Spain
	"ET": "ETH", // Ethiopia
	"EZ": "",    // Eurozone: not a territory
	"FI": "FIN", // Finland
	"FJ": "FJI", // Fiji
	"FK": "FLK", // Falkland Islands
	"FM": "FSM", // Micronesia
	"FO": "FRO", // Faroe Islands
	"FQ": "FQ0", // French Southern and Antarctic Territories (former code of TF)
	"FR": "FRA", // France
	"FX": "FXX", // Metropolitan France (former code)
	"GA": "GAB", // Gabon
	"GB": "GBR", // United Kingdom
	"GD": "GRD", // Grenada
	"GE": "GEO", // Georgia
	"GF": "GUF", // French Guiana
	"GG": "GGY", // Guernsey
	"GH": "GHA", // Ghana
	"GI": "GIB", // Gibraltar
	"GL": "GRL", // Greenland
	"GM": "GMB", // Gambia
	"GN": "GIN", // Guinea
	"GP": "GLP", // Guadeloupe
	"GQ": "GNQ", // Equatorial Guinea
	"GR": "GRC", // Greece
	"GS": "SGS", // South Georgia & South Sandwich Islands
	"GT": "GTM", // Guatemala
	"GU": "GUM", // Guam
	"GW": "GNB", // Guinea-Bissau
	"GY": "GUY", // Guyana
	"HK": "HKG", // Hong Kong SAR China
	"HM": "HMD", // Heard & McDonald Islands
	"HN": "HND", // Honduras
	"HR": "HRV", // Croatia
	"HT": "HTI", // Haiti
	"HU": "HUN", // Hungary
	"HV": "HVO", // Upper Volta (former code of BF)
	"IC": "ESP", // Canary Islands: part of Spain
	"ID": "IDN", // Indonesia
	"IE": "IRL", // Ireland
	"IL": "ISR", // Israel
	"IM": "IMN", // Isle of Man
	"IN": "IND", // India
	"IO": "IOT", // British Indian Ocean Territory
	"IQ": "IRQ", // Iraq
	"IR": "IRN", // Iran
	"IS": "ISL", // Iceland
	"IT": "ITA", // Italy
	"JE": "JEY", // Jersey
	"JM": "JAM", // Jamaica
	"JO": "JOR", // Jordan
	"JP": "JPN", // Japan
	"JT": "JTN", // Johnston Island (former code)
	"KE": "KEN", // Kenya
	"KG": "KGZ", // Kyrgyzstan
	"KH": "KHM", // Cambodia
	"KI": "KIR", // Kiribati
	"KM": "COM", // Comoros
	"KN": "KNA", // St. Kitts & Nevis
	"KP": "PRK", // North Korea
	"KR": "KOR", // South Korea
	"KW": "KWT", // Kuwait
	"KY": "CYM", // Cayman Islands
	"KZ": "KAZ", // Kazakhstan
	"LA": "LAO", // Laos
	"LB": "LBN", // Lebanon
	"LC": "LCA", // St. Lucia
	"LI": "LIE", // Liechtenstein
	"LK": "LKA", // Sri Lanka
	"LR": "LBR", // Liberia
	"LS": "LSO", // Lesotho
	"LT": "LTU", // Lithuania
	"LU": "LUX", // Luxembourg
	"LV": "LVA", // Latvia
	"LY": "LBY", // Libya
	"MA": "MAR", // Morocco
	"MC": "MCO", // Monaco
	"MD": "MDA", // Moldova
	"ME": "MNE", // Montenegro
	"MF": "MAF", // St. Martin
	"MG": "MDG", // Madagascar
	"MH": "MHL", // Marshall Islands
	"MI": "MID", // Midway Islands (former code)
	"MK": "MKD", // Macedonia
	"ML": "MLI", // Mali
	"MM": "MMR", // Myanmar (Burma)
	"MN": "MNG", // Mongolia
	"MO": "MAC", // Macau SAR China
	"MP": "MNP", // Northern Mariana Islands
	"MQ": "MTQ", // Martinique
	"MR": "MRT", // Mauritania
	"MS": "MSR", // Montserrat
	"MT": "MLT", // Malta
	"MU": "MUS", // Mauritius
	"MV": "MDV", // Maldives
	"MW": "MWI", // Malawi
	"MX": "MEX", // Mexico
	"MY": "MYS", // Malaysia
	"MZ": "MOZ", // Mozambique
	"NA": "NAM", // Namibia
	"NC": "NCL", // New Caledonia
	"NE": "NER", // Niger
	"NF": "NFK", // Norfolk Island
	"NG": "NGA", // Nigeria
	"NH": "NHB", // New Hebrides (former code of VU)
	"NI": "NIC", // Nicaragua
	"NL": "NLD", // Netherlands
	"NO": "NOR", // Norway
	"NP": "NPL", // Nepal
	"NQ": "ATN", // Dronning Maud Land (former code)
	"NR": "NRU", // Nauru
	"NT": "NTZ", // Neutral Zone (former code)
	"NU": "NIU", // Niue
	"NZ": "NZL", // New Zealand
	"OM": "OMN", // Oman
	"PA": "PAN", // Panama
	"PC": "PCI", // Pacific Islands Trust Territory (former code)
	"PE": "PER", // Peru
	"PF": "PYF", // French Polynesia
	"PG": "PNG", // Papua New Guinea
	"PH": "PHL", // Philippines
	"PK": "PAK", // Pakistan
	"PL": "POL", // Poland
	"PM": "SPM", // St. Pierre & Miquelon
	"PN": "PCN", // Pitcairn Islands
	"PR": "PRI", // Puerto Rico
	"PS": "PSE", // Palestinian Territories
	"PT": "PRT", // Portugal
	"PU": "PUS", // U.S. Miscellaneous Pacific Islands (former code)
	"PW": "PLW", // Palau
	"PY": "PRY", // Paraguay
	"PZ": "PCZ", // Panama Canal Zone (former code)
	"QA": "QAT", // Qatar
	"RE": "REU", // Réunion
	"RH": "RHO", // Southern Rhodesia (former code of ZW)
	"RO": "ROU", // Romania
	"RS": "SRB", // Serbia
	"RU": "RUS", // Russia
	"RW": "RWA", // Rwanda
	"SA": "SAU", // Saudi Arabia
	"SB": "SLB", // Solomon Islands
	"SC": "SYC", // Seychelles
	"SD": "SDN", // Sudan
	"SE": "SWE", // Sweden
	"SG": "SGP", // Singapore
	"SH": "SHN", // St. Helena
	"SI": "SVN", // Slovenia
	"SJ": "SJM", // Svalbard & Jan Mayen
	"SK": "SVK", // Slovakia
	"SL": "SLE", // Sierra Leone
	"SM": "SMR", // San Marino
	"SN": "SEN", // Senegal
	"SO": "SOM", // Somalia
	"SR": "SUR", // Suriname
	"SS": "SSD", // South Sudan
	"ST": "STP", // São Tomé & Príncipe
	"SU": "SUN", // USSR (former code)
	"SV": "SLV", // El Salvador
	"SX": "SXM", // Sint Maarten
	"SY": "SYR", // Syria
	"SZ": "SWZ", // Swaziland
	"TA": "SHN", // Tristan da Cunha: part of Saint Helena, Ascension and Tristan da Cunha
	"TC": "TCA", // Turks & Caicos Islands
	"TD": "TCD", // Chad
	"TF": "FQ0", // French Southern Territories
	"TG": "TGO", // Togo
	"TH": "THA", // Thailand
	"TJ": "TJK", // Tajikistan
	"TK": "TKL", // Tokelau
	"TL": "TLS", // Timor-Leste
	"TM": "TKM", // Turkmenistan
	"TN": "TUN", // Tunisia
	"TO": "TON", // Tonga
	"TP": "TMP", // East Timor (former code of TL)
	"TR": "TUR", // Turkey
	"TT": "TTO", // Trinidad & Tobago
	"TV": "TUV", // Tuvalu
	"TW": "TWN", // Taiwan
	"TZ": "TZA", // Tanzania
	"UA": "UKR", // Ukraine
	"UG": "UGA", // Uganda
	"UM": "UMI", // U.S. Outlying Islands
	"UN": "",    // United Nations: not a territory
	"US": "USA", // United States
	"UY": "URY", // Uruguay
	"UZ": "UZB", // Uzbekistan
	"VA": "VAT", // Vatican City
	"VC": "VCT", // St. Vincent & Grenadines
	"VD": "VDR", // North Vietnam (former code)
	"VE": "VEN", // Venezuela
	"VG": "VGB", // British Virgin Islands
	"VI": "VIR", // U.S. Virgin Islands
	"VN": "VNM", // Vietnam
	"VU": "VUT", // Vanuatu
	"WF": "WLF", // Wallis & Futuna
	"WK": "WAK", // Wake Island (former code)
	"WS": "WSM", // Samoa
	"XK": "1A0", // Kosovo
	"YD": "YMD", // South Yemen (former code)
	"YE": "YEM", // Yemen
	"YT": "MYT", // Mayotte
	"YU": "YUG", // Yugoslavia (former code)
	"ZA": "ZAF", // South Africa
	"ZM": "ZMB", // Zambia
	"ZR": "ZR0", // Zaire (former code of CD)
	"ZW": "ZWE", // Zimbabwe
}
