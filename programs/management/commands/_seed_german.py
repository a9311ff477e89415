"""The demo content in German: the same facts and steps as the English in seed_demo, in our own words.

Keyed like seed_demo's English: stretches by slug, sessions by their English
title, item notes by their English text. Members are addressed with "du".
"""

BODY_AREAS = {
    "lower-back": "Unterer Rücken",
    "upper-back": "Oberer Rücken",
    "neck": "Nacken",
    "shoulders": "Schultern",
    "chest": "Brust",
    "hips": "Hüften",
    "glutes": "Gesäß",
    "hamstrings": "Oberschenkelrückseite",
    "quadriceps": "Oberschenkelvorderseite",
    "calves": "Waden",
    "core": "Rumpf",
}

STRETCHES = {
    "bar-hang": {
        "name": "Hängen an der Stange",
        "summary": "Lass dein eigenes Gewicht die Wirbelsäule strecken, "
        "während Bauch und unterer Rücken locker werden.",
        "steps": [
            "Stell dich unter eine stabile Klimmzugstange und greif sie mit beiden Händen etwa schulterbreit.",
            "Nimm dein Gewicht in die Arme und beug die Knie, bis deine Füße den Boden verlassen.",
            "Lass Bauch und unteren Rücken weich werden und bleib ruhig hängen, ohne zu schwingen.",
            "Atme langsam und lass die Hüften Richtung Boden sinken.",
            "Stell nach etwa 20 Sekunden zuerst die Füße wieder ab und lass dann die Stange los.",
        ],
        "cues": [
            "Lass die Hüften mit jedem langsamen Ausatmen ein wenig schwerer werden.",
            "Halte den Griff fest und lass Gesicht und Kiefer entspannt.",
        ],
        "cautions": [
            "Nutze nur eine fest montierte Stange, die dein ganzes Gewicht sicher trägt.",
            "Lass diese Übung weg, wenn Schulter, Ellbogen oder Handgelenk verletzt sind "
            "oder du dich nicht sicher halten kannst.",
            "Lass dich nie von der Stange fallen: Bring erst die Füße unter dich, dann lös die Hände.",
        ],
    },
    "cat-cow": {
        "name": "Katze-Kuh",
        "summary": "Im Vierfüßlerstand bewegst du die Wirbelsäule langsam zwischen Hohlkreuz und rundem Rücken, "
        "im Takt deines Atems.",
        "steps": [
            "Geh auf einer Matte in den Vierfüßlerstand.",
            "Setz die Hände genau unter die Schultern und die Knie genau unter die Hüften.",
            "Beginne mit einem flachen Rücken, weder durchgedrückt noch gerundet.",
            "Einatmen: Blick zur Decke, den Bauch sinken lassen, sodass der untere Rücken ins Hohlkreuz geht (Kuh).",
            "Ausatmen: Kopf hängen lassen und den Rücken nach oben zu einem runden Bogen drücken (Katze).",
            "Das ist ein Durchgang. Mach 5 bis 10 davon, ganz langsam.",
        ],
        "cues": [
            "Achte mehr auf deinen Atem als auf die Bewegung; der Atem gibt das Tempo vor.",
            "Bewege die ganze Wirbelsäule, vom Steißbein bis zum Kopf.",
        ],
        "cautions": [
            "Bleib in einem Bewegungsumfang, der sich leicht anfühlt; nichts soll zwicken oder schmerzen.",
            "Knie dich auf eine Matte oder ein gefaltetes Handtuch, wenn deine Knie empfindlich sind.",
        ],
    },
    "seated-hip-stretch": {
        "name": "Hüftdehnung im Sitzen",
        "summary": "Eine Dehnung auf dem Stuhl für Hüftaußenseite und Gesäß – zu Hause oder am Schreibtisch.",
        "steps": [
            "Setz dich aufrecht vorn auf einen stabilen Stuhl, beide Füße flach auf dem Boden.",
            "Heb ein Bein und leg seinen Knöchel, nicht den Fuß, quer über das Knie des anderen Beins.",
            "Halte das angehobene Bein mit beiden Händen und lass den Ellbogen das obere Knie sanft nach unten "
            "drücken. Bleib etwa 20 Sekunden so.",
            "Nimm dann das Knie in beide Hände und zieh es zu dir hoch.",
            "Stell das Bein ab und mach dasselbe auf der anderen Seite.",
        ],
        "cues": [
            "Halte den Rücken lang; für mehr Dehnung kipp leicht aus der Hüfte nach vorn, statt einzusacken.",
            "Atme während des Drückens gleichmäßig weiter.",
        ],
        "cautions": [
            "Leg den Knöchel aufs Knie, nie den Fuß: Der Fuß auf dem Knie knickt den Knöchel ab und belastet ihn.",
            "Drück das Knie nur so weit nach unten, wie es angenehm ist, nie mit Kraft.",
            "Nimm einen Stuhl, der nicht wegrollen oder kippen kann.",
        ],
    },
    "crossed-leg-hamstring-stretch": {
        "name": "Dehnung der Oberschenkelrückseite im Schneidersitz",
        "summary": "Im Sitzen auf dem Boden eine Dehnung für die Rückseite der Oberschenkel und die Hüften, "
        "mit einer leichteren Variante.",
        "steps": [
            "Setz dich mit gekreuzten Beinen auf den Boden.",
            "Leg ein Bein so über das andere, dass es obenauf liegt.",
            "Drück das obere Knie mit Hand oder Ellbogen sanft nach unten und halte etwa 20 Sekunden.",
            "Fass dann das obere Bein mit beiden Händen und heb es an.",
            "Wechsle die Beine und wiederhole.",
            "Leichtere Variante: Streck ein Bein gerade vor dir aus und kreuz das andere Bein darüber.",
        ],
        "cues": [
            "Sitz aufrecht, damit du die Dehnung in Beinen und Hüften spürst und nicht in einem runden Rücken.",
            "Atme aus, während du das Knie nach unten drückst.",
        ],
        "cautions": [
            "Ist der Schneidersitz zu viel, nimm die leichtere Variante mit gestrecktem Bein.",
            "Setz dich auf ein Kissen, wenn deine Hüften steif sind, und hör auf, wenn es hinter dem Knie schmerzt.",
        ],
    },
}

PROGRAM = {
    "title": "Entlastung für den unteren Rücken",
    "summary": "Vier Wochen kurze Einheiten, die Hüften, Oberschenkelrückseite und unteren Rücken lockern – "
    "vier Tage pro Woche, mit Ruhetagen dazwischen.",
    "goal": "Verspannte Hüften und eine steife Oberschenkelrückseite lassen den unteren Rücken mehr arbeiten, "
    "als er sollte. In vier Wochen lockerst du sie Schritt für Schritt: Du beginnst sanft mit einfachen "
    "Haltepositionen und ein paar langsamen Katze-Kuh-Durchgängen und steigerst dich bis zu zwei Runden "
    "jeder Dehnübung.\n\n"
    "Die meisten Einheiten dauern weniger als zehn Minuten. Du brauchst eine Matte und einen Stuhl; eine "
    "Klimmzugstange hilft ab Woche 2, aber jede Einheit klappt auch ohne.",
}

SESSION_TITLES = {
    "Getting started: breath and hips": "Der Einstieg: Atem und Hüften",
    "Hamstrings, gently": "Oberschenkelrückseite, ganz sanft",
    "The floor routine": "Die Bodenrunde",
    "The floor routine, once more": "Die Bodenrunde, noch einmal",
    "Hips and hamstrings": "Hüften und Oberschenkelrückseite",
    "Spine and hips": "Wirbelsäule und Hüften",
    "Hamstrings and hang": "Oberschenkelrückseite und Hängen",
    "The whole routine": "Die ganze Runde",
}

ITEM_NOTES = {
    "": "",
    "Let the breath lead.": "Lass den Atem führen.",
    "Start with the easier straight-leg version.": "Beginne mit der leichteren Variante mit gestrecktem Bein.",
    "No bar? Do 5 more cat–cow cycles instead.": "Keine Stange? Mach stattdessen 5 Katze-Kuh-Durchgänge mehr.",
}

# The seed drawings' alt text and caption, keyed by the drawing's name.
ILLUSTRATIONS = {
    "bar-hang": {
        "alt": "Mit beiden Händen an einer Stange über dem Kopf hängen, die Arme gestreckt, die Knie gebeugt, "
        "sodass die Füße den Boden nicht berühren, und die Hüften hängen tief.",
        "caption": "",
    },
    "cat-cow-cow": {
        "alt": "Im Vierfüßlerstand, die Hände unter den Schultern und die Knie unter den Hüften: Der Bauch sinkt, "
        "sodass der untere Rücken ins Hohlkreuz geht, und der Kopf hebt sich, der Blick geht nach oben.",
        "caption": "Einatmen: Kuh, der Rücken sinkt ins Hohlkreuz.",
    },
    "cat-cow-cat": {
        "alt": "Im Vierfüßlerstand: Der Rücken rundet sich nach oben zu einem Bogen, und der Kopf hängt zwischen "
        "den Armen nach unten.",
        "caption": "Ausatmen: Katze, der Rücken wird rund.",
    },
    "seated-hip-stretch": {
        "alt": "Aufrecht auf einem Stuhl sitzen, ein Fuß flach auf dem Boden: Der Knöchel des anderen Beins, nicht "
        "sein Fuß, liegt quer auf diesem Knie, der Fuß ragt darüber hinaus. Eine Hand hält den Knöchel, der "
        "Ellbogen des anderen Arms drückt das angehobene Knie sanft nach unten.",
        "caption": "Der Knöchel liegt auf dem Knie, der Fuß ragt darüber hinaus.",
    },
    "crossed-leg-hamstring-stretch": {
        "alt": "Auf dem Boden sitzen, die Beine gekreuzt, ein Bein liegt auf dem anderen: Eine Hand hält den oberen "
        "Knöchel, die andere drückt das obere Knie sanft nach unten.",
        "caption": "",
    },
    "crossed-leg-hamstring-stretch-easier": {
        "alt": "Auf dem Boden sitzen, ein Bein gerade nach vorn ausgestreckt, das andere gebeugt und darüber "
        "gekreuzt, sein Fuß auf dem Boden neben dem gestreckten Knie; beide Hände halten das gebeugte Knie.",
        "caption": "Leichtere Version: ein Bein gestreckt.",
    },
}
