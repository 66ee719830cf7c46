"""Variable labels and value labels written into the .sav files (some lower case on purpose)."""

GESLACHT = {"1": "Mannen", "2": "Vrouwen", "-": "onbekend"}
GENERATIE = {"0": "autochtoon", "1": "eerste generatie", "2": "tweede generatie"}
HERKOMST = {"6030": "Nederland", "6043": "Turkije", "5022": "Marokko", "5007": "Suriname",
            "5095": "Polen", "6014": "Duitsland", "5049": "Syrië", "9089": "overig buitenland",
            "----": "onbekend"}
SOORTOBJECT = {"VBO": "verblijfsobject", "NVB": "niet verblijfsobject"}
TYPHH = {"1": "Eenpersoonshuishouden", "2": "Niet-gehuwd paar zonder kinderen",
         "3": "Gehuwd paar zonder kinderen", "4": "Niet-gehuwd paar met kinderen",
         "5": "Gehuwd paar met kinderen", "6": "Eenouderhuishouden", "7": "Overig huishouden",
         "8": "Institutioneel huishouden"}
PLHH = {" 1": "Thuiswonend kind", " 2": "Alleenstaande",
        " 3": "Partner in niet-gehuwd paar zonder kinderen",
        " 4": "Partner in gehuwd paar zonder kinderen",
        " 5": "Partner in niet-gehuwd paar met kinderen",
        " 6": "Partner in gehuwd paar met kinderen",
        " 7": "Ouder in eenouderhuishouden", " 8": "Referentiepersoon in overig huishouden",
        " 9": "Overig lid huishouden", "10": "Lid institutioneel huishouden"}
SECM = {"11": "Werknemer", "12": "Directeur-grootaandeelhouder", "13": "Zelfstandig ondernemer",
        "14": "Overige zelfstandige", "21": "Ontvanger werkloosheidsuitkering",
        "22": "Ontvanger bijstandsuitkering",
        "23": "Ontvanger uitkering sociale voorziening overig",
        "24": "Ontvanger uitkering ziekte/AO", "25": "Ontvanger pensioenuitkering",
        "26": "(Student/scholier) met inkomen", "31": "(Student/scholier) zonder inkomen",
        "32": "Overig zonder inkomen"}
INHSAMHH = {"1": "eenpersoonshuishouden", "2": "paar zonder kind", "3": "paar zonder kind",
            "4": "paar met kind(eren)", "5": "paar met kind(eren)", "6": "eenouderhuishouden",
            "7": "overig meerpersoonshuishouden"}
WPOTYPE = {"BO": "Basisonderwijs", "SBO": "Speciaal basisonderwijs", "SO": "Speciaal onderwijs"}
LEERJAAR = {f"{i:2d}": f"groep {i}" for i in range(1, 9)}
HULPVORM = {"01": "Jeugdhulp zonder verblijf: wijk- of buurtteam",
            "02": "Jeugdhulp zonder verblijf: ambulant op locatie aanbieder",
            "03": "Jeugdhulp zonder verblijf: daghulp op locatie aanbieder",
            "04": "Jeugdhulp zonder verblijf: in het netwerk van de jeugdige",
            "11": "Jeugdhulp met verblijf: pleegzorg",
            "12": "Jeugdhulp met verblijf: gezinsgericht",
            "13": "Jeugdhulp met verblijf: gesloten plaatsing",
            "14": "Jeugdhulp met verblijf: overig verblijf"}
VERWIJZER = {"01": "Gemeentelijke toegang", "02": "Huisarts", "03": "Jeugdarts",
             "04": "Gecertificeerde instelling", "05": "Medisch specialist", "06": "Geen verwijzer",
             "07": "Onbekend", "08": "Rechter, officier van justitie, JJI"}
REDEN = {"01": "Volgens plan", "02": "Voortijdig, in overeenstemming",
         "03": "Voortijdig, eenzijdig door de cliënt",
         "04": "Voortijdig, eenzijdig door de aanbieder",
         "05": "Voortijdig, wegens externe omstandigheden"}
PERSPECTIEF = {"01": "stabilisatie crisis", "02": "diagnostiek", "03": "begeleiden",
               "04": "behandelen"}
CRISIS = {"1": "gestart met crisis", "0": "niet gestart met crisis"}
ZELFSTANDIG = {"1": "ja", "2": "nee", "9": "onbekend"}
JGDBMAATREGEL = {"11": "ondertoezichtstelling", "12": "voorlopige ondertoezichtstelling",
                 "21": "voogdij", "22": "voorlopige voordij", "23": "tijdelijke voogdij"}
JGDBREDEN = {"01": "meerderjarigheid", "02": "tussentijdse opheffing", "03": "niet verlengd",
             "04": "volgens plan", "05": "gezagsbeëindigende maatregel", "06": "overlijden",
             "11": "meerderjarigheid (voogdij)", "12": "gezag hersteld",
             "13": "overdracht voogdij", "14": "adoptie", "15": "overig einde voogdij"}
JGDRMAATREGEL = {"41": "Toezicht en begeleiding gedwongen kader",
                 "42": "Toezicht en begeleiding vrijwillig kader", "50": "ITB Harde Kern",
                 "51": "ITB Criem", "61": "Scholings- en trainingsprogramma",
                 "62": "Gedragsbeïnvloedende maatregel", "63": "Voorbereiding GBM e.a."}
JGDRREDEN = {"21": "Volgens plan", "22": "Tussentijdse opheffing",
             "23": "Overgang naar volwassenenreclassering", "24": "Terugmelding",
             "25": "Nader besluit rechter", "26": "Overlijden"}
ERKEND = {"1": "ja", "0": "nee"}
