"""The desk's words in Polish (default) and English; the language comes from a cookie."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdesk.ports import StateRefused

LANGUAGES = ("pl", "en")
LANGUAGE_COOKIE = "kck_lang"

# key → (Polish, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    "app.title": ("Stanowisko konsultanta", "Agent desk"),
    "login.title": ("Logowanie", "Sign in"),
    "login.username": ("Użytkownik", "User name"),
    "login.password": ("Hasło", "Password"),
    "login.extension": ("Numer wewnętrzny (telefon)", "Phone extension"),
    "login.submit": ("Zaloguj", "Sign in"),
    "login.failed": ("Nieprawidłowy użytkownik lub hasło.", "Wrong user name or password."),
    "login.extension_needed": (
        "Podaj numer wewnętrzny telefonu, przy którym pracujesz.",
        "Give the extension of the phone you work at.",
    ),
    "login.extension_taken": (
        "Numer wewnętrzny {extension} jest już zajęty przez {agent}.",
        "Extension {extension} is already taken by {agent}.",
    ),
    "login.refused": (
        "Nie można zalogować do kolejki: {reason}",
        "Cannot sign in to the queues: {reason}",
    ),
    "login.throttled": (
        "Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za {minutes} min.",
        "Too many failed sign-in attempts. Try again in {minutes} min.",
    ),
    "login.expired": (
        "Formularz wygasł — spróbuj ponownie.",
        "The form expired — please try again.",
    ),
    "logout": ("Wyloguj", "Sign out"),
    "forbidden": ("Brak uprawnień do tej strony.", "You may not open this page."),
    "csrf": (
        "Brak lub nieprawidłowy token bezpieczeństwa (CSRF). Odśwież stronę.",
        "Security token (CSRF) missing or wrong. Reload the page.",
    ),
    "input.malformed": (
        "Nie można odczytać żądania: {detail}",
        "The request cannot be read: {detail}",
    ),
    "monitoring.refused": (
        "Szczegóły stanu i metryki widzi tylko kierownik zmiany albo monitoring z tokenem "
        "(http.monitoring_token).",
        "Health details and metrics are for supervisors, or monitoring with the token "
        "(http.monitoring_token).",
    ),
    "lang.switch": ("English", "Polski"),
    "state.logged_out": ("wylogowany", "logged out"),
    "state.available": ("dostępny", "available"),
    "state.offered": ("połączenie przychodzące", "call incoming"),
    "state.on_call": ("w rozmowie", "on a call"),
    "state.wrap_up": ("obsługa po rozmowie", "wrap-up"),
    "state.paused": ("przerwa", "paused"),
    "reason.break": ("przerwa", "break"),
    "reason.training": ("szkolenie", "training"),
    "reason.back_office": ("praca biurowa", "back office"),
    "reason.meeting": ("spotkanie", "meeting"),
    "reason.login": ("po zalogowaniu", "just signed in"),
    "reason.no_answer": ("nieodebrane połączenie", "missed call"),
    "desk.go_available": ("Dostępny", "Available"),
    "desk.pause": ("Przerwa", "Pause"),
    "desk.in_state": ("w stanie od", "in state for"),
    "desk.extension": ("wewn.", "ext."),
    "desk.wrap_up_left": ("koniec obsługi za {time}", "wrap-up ends in {time}"),
    "desk.waiting": ("Oczekiwanie na połączenie…", "Waiting for a call…"),
    "desk.connection_lost": (
        "Utracono połączenie z serwerem — łączę ponownie…",
        "Connection to the server lost — reconnecting…",
    ),
    "pop.caller": ("Dzwoniący", "Caller"),
    "pop.withheld": ("numer zastrzeżony", "number withheld"),
    "pop.ivr_path": ("Ścieżka w IVR", "IVR path"),
    "pop.recording": ("Nagrywanie", "Recording"),
    "pop.recorded": ("nagrywana", "recorded"),
    "pop.not_recorded": ("nie nagrywana", "not recorded"),
    "pop.pause_recording": ("Wstrzymaj nagrywanie", "Pause recording"),
    "pop.resume_recording": ("Wznów nagrywanie", "Resume recording"),
    "pop.recording_paused": ("nagrywanie wstrzymane", "recording paused"),
    "rec.title": ("Nagrania rozmów", "Call recordings"),
    "rec.accesses": ("Odsłuchania i pobrania nagrań", "Recording plays and downloads"),
    "rec.queue_link": ("Kolejka transkrypcji", "Transcription queue"),
    "rec.reason_needed": (
        "Każde odsłuchanie i pobranie wymaga podania powodu i jest zapisywane w dzienniku.",
        "Every play and download needs a reason and is written to the audit log.",
    ),
    "rec.reason": ("Powód", "Reason"),
    "rec.started": ("Początek", "Started"),
    "rec.agent": ("Konsultant", "Agent"),
    "rec.queue": ("Kolejka", "Queue"),
    "rec.duration": ("Długość", "Length"),
    "rec.play": ("odsłuchanie", "play"),
    "rec.download": ("pobranie", "download"),
    "rec.hold": ("blokada prawna", "legal hold"),
    "rec.none": ("Brak nagrań.", "No recordings."),
    "rec.since": ("Od dnia", "Since"),
    "rec.search": ("Szukaj w transkrypcjach", "Search the transcripts"),
    "rec.transcript": ("Transkrypcja", "Transcript"),
    "rec.not_transcribed": ("Bez transkrypcji: {problem}", "Not transcribed: {problem}"),
    "rec.queue_title": ("Kolejka transkrypcji", "Transcription queue"),
    "rec.pending": ("Czekają", "Waiting"),
    "rec.running": ("W toku", "Running"),
    "rec.failed": ("Nieudane", "Failed"),
    "rec.concurrency": (
        "Jednocześnie (na proces kck): {n}",
        "At once (per kck process): {n}",
    ),
    "rec.language": ("Język", "Language"),
    "rec.problem": ("Przyczyna", "Reason"),
    "rec.retry": ("Ponów", "Retry"),
    "rec.retried": ("Nagranie czeka ponownie na transkrypcję.", "The recording waits again."),
    "rec.no_failed": ("Brak nieudanych transkrypcji.", "No failed transcriptions."),
    "rec.when": ("Kiedy", "When"),
    "rec.who": ("Kto", "Who"),
    "rec.what": ("Co", "What"),
    "rec.call": ("Rozmowa", "Call"),
    "rec.no_accesses": ("Nikt nie odsłuchał ani nie pobrał nagrań.", "No plays or downloads."),
    "pop.transcript": ("Wypowiedź dzwoniącego", "What the caller said"),
    "pop.history": ("Poprzednie kontakty (90 dni)", "Previous contacts (90 days)"),
    "pop.no_history": ("Brak wcześniejszych połączeń i zgłoszeń.", "No earlier calls or tickets."),
    "pop.calls": ("Połączenia", "Calls"),
    "pop.tickets": ("Zgłoszenia", "Tickets"),
    "pop.suggestions": ("Podpowiedzi z bazy wiedzy", "Knowledge base suggestions"),
    "pop.no_suggestions": ("Brak podpowiedzi.", "No suggestions."),
    "pop.reason": ("powód", "reason"),
    "pop.call_timer": ("Czas rozmowy", "Call time"),
    "pop.wrap_timer": ("Obsługa po rozmowie", "Wrap-up"),
    "pop.language": ("Język dzwoniącego", "Caller's language"),
    "pop.queue": ("Kolejka", "Queue"),
    "kb.search": ("Szukaj w bazie wiedzy", "Search the knowledge base"),
    "kb.no_hits": ("Nic nie znaleziono.", "Nothing found."),
    "notes": ("Notatki", "Notes"),
    "ticket.title": ("Zgłoszenie", "Ticket"),
    "ticket.category": ("Kategoria", "Category"),
    "ticket.location": ("Miejsce (adres)", "Place (address)"),
    "ticket.latitude": ("Szer. geogr.", "Latitude"),
    "ticket.longitude": ("Dł. geogr.", "Longitude"),
    "ticket.description": ("Opis", "Description"),
    "ticket.caller_number": ("Telefon dzwoniącego", "Caller's phone"),
    "ticket.caller_name": ("Imię i nazwisko", "Name"),
    "ticket.caller_email": ("E-mail", "E-mail"),
    "ticket.consent": ("Zgoda na kontakt w sprawie zgłoszenia", "Consent to be contacted about it"),
    "ticket.units": ("Przekaż do jednostek", "Forward to units"),
    "ticket.save": ("Zapisz zgłoszenie", "Save ticket"),
    "ticket.saved": ("Zapisano zgłoszenie {number}", "Ticket {number} saved"),
    "ticket.fix": ("Popraw zaznaczone pola.", "Correct the marked fields."),
    "ticket.lookup": ("Znajdź zgłoszenie po numerze", "Find a ticket by number"),
    "ticket.not_found": ("Nie ma zgłoszenia {number}.", "No ticket {number}."),
    "ticket.call_not_found": (
        "Nie ma rozmowy {call_id}, do której można dołączyć zgłoszenie.",
        "No call {call_id} to attach the ticket to.",
    ),
    "ticket.find": ("Szukaj", "Find"),
    "ticket.created_at": ("Utworzono", "Created"),
    "ticket.status": ("Status", "Status"),
    "category.greenery": ("zieleń", "greenery"),
    "category.roads_pavements": ("drogi i chodniki", "roads and pavements"),
    "category.small_architecture": ("mała architektura", "small architecture"),
    "category.waste": ("odpady", "waste"),
    "category.transport": ("komunikacja", "transport"),
    "category.other": ("inne", "other"),
    "category.out_of_competence": ("poza kompetencją miasta", "out of city competence"),
    "outcome.title": ("Wynik rozmowy", "Call outcome"),
    "outcome.resolved_first_line": ("załatwione na pierwszej linii", "resolved at first line"),
    "outcome.ticket_created": ("utworzono zgłoszenie do jednostek", "ticket created for units"),
    "outcome.callback_needed": ("trzeba oddzwonić", "callback needed"),
    "kb.card_not_found": ("Nie ma takiej karty.", "No such card."),
    "kb.close_card": ("Wróć do podpowiedzi", "Back to the suggestions"),
    "kb.open_card": ("Otwórz kartę", "Open the card"),
    "kb.who_may_apply": ("Kto może złożyć", "Who may apply"),
    "kb.documents": ("Dokumenty", "Documents"),
    "kb.fees": ("Opłaty", "Fees"),
    "kb.deadlines": ("Terminy", "Deadlines"),
    "kb.where": ("Gdzie", "Where"),
    "kb.hours": ("Godziny", "Hours"),
    "kb.online": ("Online", "Online"),
    "kb.legal_basis": ("Podstawa prawna", "Legal basis"),
    "kb.unit": ("Jednostka", "Unit"),
    "kb.steps": ("Jak załatwić", "How to"),
    "language.pl": ("polski", "Polish"),
    "language.en": ("angielski", "English"),
    "language.uk": ("ukraiński", "Ukrainian"),
    "ticket.status.new": ("nowe", "new"),
    "ticket.status.forwarded": ("przekazane", "forwarded"),
    "ticket.status.closed": ("zamknięte", "closed"),
    "suggestion.ivr-choice": ("wybór w menu IVR", "choice in the IVR menu"),
    "suggestion.intent": ("temat rozpoznany w mowie", "topic recognised in speech"),
    "suggestion.ticket-category": ("kategoria: {category}", "category: {category}"),
    "suggestion.named-card": ("karta wskazana przez IVR", "card named by the IVR"),
    "suggestion.transcript": ("słowa rozmówcy: {words}", "the caller's words: {words}"),
    "outcome.wrong_number": (
        "pomyłka / poza kompetencją",
        "wrong number / out of competence",
    ),
    "outcome.save": ("Zapisz wynik", "Save outcome"),
    "outcome.save_and_available": ("Zapisz i bądź dostępny", "Save and become available"),
    "outcome.needs_ticket": (
        "Najpierw zapisz zgłoszenie dla tej rozmowy.",
        "Save a ticket for this call first.",
    ),
    "outcome.unknown": ("Wybierz wynik z listy.", "Choose an outcome from the list."),
    "outcome.saved": ("Zapisano wynik rozmowy.", "Outcome saved."),
    "outcome.prompt": (
        "Nie zapisano wyniku rozmowy. Wybierz wynik i zapisz go albo zakończ bez wyniku.",
        "The call's outcome is not saved. Choose one and save it, or finish without it.",
    ),
    "outcome.skip": ("Zakończ bez wyniku", "Finish without an outcome"),
    "call.in_progress": ("w toku", "in progress"),
    "call.answered": ("odebrane", "answered"),
    "call.abandoned": ("porzucone", "abandoned"),
    "call.self_service": ("samoobsługa", "self-service"),
    "call.callback": ("oddzwonienie", "callback"),
    "call.callback_failed": ("nieudane oddzwonienie", "failed callback"),
    "call.voicemail": ("poczta głosowa", "voicemail"),
    "call.transferred": ("przekazane", "transferred"),
    "call.closed_hours": ("poza godzinami", "closed hours"),
    "call.hung_up_in_ivr": ("rozłączone w IVR", "hung up in IVR"),
    "call.failed": ("błąd", "failed"),
    "call.fallback": ("kolejka awaryjna", "fallback queue"),
    "call.fallback_answered": ("odebrane w kolejce awaryjnej", "answered in the fallback queue"),
    "call.fallback_abandoned": ("porzucone w kolejce awaryjnej", "abandoned in the fallback queue"),
    "call.interrupted": ("przerwane (awaria systemu)", "interrupted (system outage)"),
    # the top navigation and the role homes (agentdesk/navigation.py, templates/home.html)
    "nav.label": ("Nawigacja", "Navigation"),
    "nav.desk": ("Stanowisko", "Desk"),
    "nav.desk.about": (
        "Odbieranie połączeń na numerze wewnętrznym {extension}.",
        "Take calls on extension {extension}.",
    ),
    "nav.supervisor_home": ("Start", "Home"),
    "nav.supervisor_home.about": (
        "Strona startowa kierownika zmiany.",
        "The supervisor's start page.",
    ),
    "nav.board": ("Tablica", "Wall board"),
    "nav.board.about": (
        "Na żywo: kolejki, poziom obsługi, konsultanci i ich stany; wymuszenie stanu konsultanta.",
        "Live: queues, service level, agents and their states; force an agent's state.",
    ),
    "nav.wall": ("Tryb ścienny", "Wall mode"),
    "nav.wall.about": (
        "Ta sama tablica dużym drukiem na ekran 1920×1080, bez przycisków.",
        "The same board in large type for a 1920×1080 screen, without buttons.",
    ),
    "nav.reports": ("Raporty", "Reports"),
    "nav.reports.about": (
        "Dni, godziny, gałęzie IVR, czasy oczekiwania, zgłoszenia; wykresy i CSV.",
        "Days, hours, IVR branches, waiting times, tickets; charts and CSV.",
    ),
    "nav.editor_home": ("Menu IVR", "IVR menus"),
    "nav.editor_home.about": (
        "Co redaktor menu IVR może zrobić dziś; wersja menu na żywo.",
        "What an IVR menu editor can do today; the live menu version.",
    ),
    "nav.status": ("Stan systemu", "System status"),
    "nav.status.about": (
        "Czy działają baza danych, Redis, połączenie z Asteriskiem, IVR i router.",
        "Whether the database, Redis, the Asterisk link, the IVR and the router are up.",
    ),
    "home.signed_in_as": ("Zalogowano jako {name} ({role})", "Signed in as {name} ({role})"),
    "home.supervisor.title": ("Kierownik zmiany", "Supervisor"),
    "home.admin.title": ("Administrator", "Administrator"),
    "home.supervisor.intro": (
        "Stąd przejdziesz do tablicy na żywo, raportów i stanu systemu.",
        "From here: the live wall board, the reports and the system status.",
    ),
    "home.editor.title": ("Redaktor menu IVR", "IVR menu editor"),
    "home.editor.intro": (
        "Menu IVR zmienia się w plikach YAML na serwerze i poleceniami kck; edycji w "
        "przeglądarce jeszcze nie ma. Co możesz zrobić dziś:",
        "IVR menus are changed in YAML files on the server and with kck commands; there is no "
        "editing in the browser yet. What you can do today:",
    ),
    "home.editor.live": ("Na żywo jest wersja menu", "Live menu version"),
    "home.editor.none_live": ("Żadna wersja menu nie jest na żywo.", "No menu version is live."),
    "home.editor.folder": ("Folder menu", "Menu folder"),
    "home.editor.watching": (
        "Zmiana pliku sama wgrywa nową wersję (jeśli przejdzie sprawdzenie).",
        "A changed file is loaded as a new version by itself (when it passes the checks).",
    ),
    "home.editor.rejected": ("Ostatnio odrzucona zmiana", "Last rejected change"),
    "home.editor.unknown": (
        "Stan IVR nieznany w tym procesie.",
        "The IVR's state is not known in this process.",
    ),
    "home.editor.validate": ("sprawdź menu (błędy i ostrzeżenia)", "check the menus"),
    "home.editor.test": ("uruchom testy scenariuszy z menus/tests", "run the scripted tests"),
    "home.editor.try": (
        "przejdź połączenie w terminalu, naciskając klawisze",
        "walk a call in the terminal, pressing keys",
    ),
    "home.editor.graph": ("narysuj menu (Graphviz)", "draw the menu (Graphviz)"),
    "home.editor.reload": (
        "wgraj folder jako nową wersję i włącz ją",
        "load the folder as a new version and make it live",
    ),
    "home.editor.versions": ("lista wersji", "list the versions"),
    "home.editor.diff": ("co się zmieniło między wersjami", "what changed between versions"),
    "home.editor.rollback": (
        "przywróć wcześniejszą wersję (bez zrywania połączeń)",
        "make an earlier version live again (no call is dropped)",
    ),
    "home.editor.kb": (
        "baza wiedzy: import kart i karty do przeglądu",
        "knowledge base: import cards, cards due for review",
    ),
    "home.editor.docs": (
        "Język menu i polecenia: docs/ivr.md.",
        "The menu language and the commands: docs/ivr.md.",
    ),
    # the wall board (agentdesk/templates/board, agentdesk/static/board/board.js)
    "board.title": ("Tablica", "Wall board"),
    "board.connecting": ("łączenie…", "connecting…"),
    "board.live": ("na żywo", "live"),
    "board.retrying": ("rozłączono — ponawiam", "disconnected — retrying"),
    "board.totals": ("Razem", "Total"),
    "board.waiting": ("Czekają", "Waiting"),
    "board.longest": ("Najdłużej czeka", "Longest wait"),
    "board.sl_today": ("SL dziś", "SL today"),
    "board.abandon_rate": ("Porzucone %", "Abandon rate"),
    "board.offered": ("Oferowane", "Offered"),
    "board.answered": ("Odebrane", "Answered"),
    "board.abandoned": ("Porzucone", "Abandoned"),
    "board.fcr_today": ("FCR dziś", "FCR today"),
    "board.occupancy": ("Obłożenie", "Occupancy"),
    "board.target": ("cel {pct}% w {s} s", "target {pct}% within {s} s"),
    "board.queues": ("Kolejki", "Queues"),
    "board.queue": ("Kolejka", "Queue"),
    "board.agents": ("Konsultanci", "Agents"),
    "board.agent": ("Konsultant", "Agent"),
    "board.state": ("Stan", "State"),
    "board.reason": ("Powód", "Reason"),
    "board.time_in_state": ("Czas w stanie", "Time in state"),
    "board.action": ("Akcja", "Action"),
    "board.failed_callbacks": ("Nieudane oddzwonienia dziś", "Failed callbacks today"),
    "board.none": ("brak", "none"),
    "board.number": ("Numer", "Number"),
    "board.last_attempt": ("Ostatnia próba", "Last attempt"),
    "board.more": ("+ {n} więcej", "+ {n} more"),
    # forcing an agent's state from the wall board (agentdesk/static/board/board.js)
    "force.choose": ("wybierz stan", "choose a state"),
    "force.new_state": ("Nowy stan", "New state"),
    "force.button": ("Zmień stan…", "Change state…"),
    "force.title": ("Zmiana stanu konsultanta", "Change an agent's state"),
    "force.question.1": ("Zmienić stan konsultanta", "Change the state of"),
    "force.question.2": ("na", "to"),
    "force.reason": ("Powód przerwy", "Reason for the pause"),
    "force.reason_needed": ("Wybierz powód przerwy.", "Choose a reason for the pause."),
    "force.no_cut": (
        "Trwająca rozmowa nie zostanie przerwana: wtedy zmiana zostanie odrzucona.",
        "A call in progress is never cut: the change is refused then.",
    ),
    "force.audited": (
        "Zmiana zostanie zapisana w dzienniku audytu pod Twoim nazwiskiem.",
        "The change is recorded in the audit log under your name.",
    ),
    "force.cancel": ("Anuluj", "Cancel"),
    "force.confirm": ("Zmień stan", "Change state"),
    # the reports page (agentdesk/reports): tables, column headers, words for codes
    "report.title": ("Raporty", "Reports"),
    "report.from": ("Od", "From"),
    "report.to": ("Do", "To"),
    "report.queue": ("Kolejka", "Queue"),
    "report.all_queues": ("wszystkie", "all"),
    "report.show": ("Pokaż", "Show"),
    "report.zone": (
        "Dni i godziny według strefy {zone}; definicje: docs/supervisor.md, „Definicje”.",
        "Days and hours in the {zone} time zone; definitions: docs/supervisor.md, “Definitions”.",
    ),
    "report.target": (
        "Cel poziomu obsługi: {pct}% w {within} s.",
        "Service-level target: {pct}% within {within} s.",
    ),
    "report.no_data": ("brak danych", "no data"),
    "report.csv": (
        "CSV dla programów: nazwy kolumn i kody jak w tytułach podpowiedzi, obok nazwy.",
        "CSV for programs: column names and codes as in the tooltips, names beside them.",
    ),
    "report.csv_excel": (
        "średnik, przecinek dziesiętny, UTF-8 z BOM",
        "semicolon, decimal comma, UTF-8 with BOM",
    ),
    "report.total": ("Razem", "Total"),
    "report.no_ivr": ("(bez IVR)", "(no IVR)"),
    "report.tickets_missing": (
        "Tabeli zgłoszeń nie ma w tej instalacji.",
        "The tickets table is not present in this installation.",
    ),
    "report.table.daily": ("Dni", "Days"),
    "report.table.hourly": ("Godziny", "Hours"),
    "report.table.ivr": ("Gałęzie IVR", "IVR branches"),
    "report.table.waits": ("Rozkład czasu oczekiwania", "Waiting time distribution"),
    "report.table.ticket_categories": ("Zgłoszenia wg kategorii", "Tickets per category"),
    "report.table.ticket_units": ("Zgłoszenia wg jednostki", "Tickets per unit"),
    "chart.calls_per_hour": ("Połączenia na godzinę — {span}", "Calls per hour — {span}"),
    "chart.service_level_per_hour": (
        "Poziom obsługi na godzinę — {span}",
        "Service level per hour — {span}",
    ),
    "chart.waits": ("Rozkład czasu oczekiwania — {span}", "Waiting time distribution — {span}"),
    "chart.answered": ("odebrane", "answered"),
    "chart.abandoned": ("porzucone", "abandoned"),
    "chart.other": ("inne", "other"),
    "chart.target": ("cel ({within} s)", "target ({within} s)"),
    "report.column.day": ("Dzień", "Day"),
    "report.column.hour": ("Godzina", "Hour"),
    "report.column.offered": ("Oferowane", "Offered"),
    "report.column.answered": ("Odebrane", "Answered"),
    "report.column.abandoned": ("Porzucone", "Abandoned"),
    "report.column.short_abandoned": ("Porzucone krótkie", "Short abandons"),
    "report.column.service_level_pct": ("Poziom obsługi %", "Service level %"),
    "report.column.target_pct": ("Cel %", "Target %"),
    "report.column.asa_s": ("Śr. czas do odebrania (s)", "Avg. speed of answer (s)"),
    "report.column.aht_s": ("Śr. czas obsługi (s)", "Avg. handling time (s)"),
    "report.column.abandon_rate_pct": ("Odsetek porzuceń %", "Abandon rate %"),
    "report.column.fcr_pct": ("Załatwione od razu %", "First-contact resolution %"),
    "report.column.ivr_branch": ("Ścieżka w IVR", "IVR path"),
    "report.column.calls": ("Połączenia", "Calls"),
    "report.column.wait": ("Czas oczekiwania", "Waiting time"),
    "report.column.category": ("Kategoria", "Category"),
    "report.column.tickets": ("Zgłoszenia", "Tickets"),
    "report.column.unit": ("Jednostka", "Unit"),
    "role.agent": ("konsultant", "agent"),
    "role.supervisor": ("kierownik zmiany", "supervisor"),
    "role.editor": ("redaktor IVR", "IVR editor"),
    "role.admin": ("administrator", "administrator"),
    "state.refused.busy": (
        "najpierw zakończ rozmowę (teraz: {state})",
        "finish the call first (now: {state})",
    ),
    "state.refused.not_configured": (
        "konto nie jest przypisane do kolejek (agents.yaml) — zgłoś to kierownikowi zmiany",
        "the account is not in the queues (agents.yaml) — tell your supervisor",
    ),
    "state.refused.wrong_extension": (
        "to konto pracuje przy telefonie {expected} — podaj ten numer",
        "this account works at phone {expected} — give that extension",
    ),
    "state.refused.no_desk": (
        "stanowiska nie uruchomiono w tym procesie serwera",
        "the desk is not running in this server process",
    ),
    "state.refused.other": (
        "centrala kolejek odmówiła (szczegóły w podpowiedzi)",
        "the queue router refused (details in the tooltip)",
    ),
    "logout.refused.title": ("Nie można się teraz wylogować", "You cannot sign out now"),
    "logout.refused": (
        "Nie można się wylogować: {reason}.",
        "You cannot sign out: {reason}.",
    ),
    "logout.back": ("Wróć do stanowiska", "Back to the desk"),
    "state.refused": (
        "Nie można teraz zmienić stanu: {reason}",
        "Cannot change state now: {reason}",
    ),
    "transfer.open": ("Przekaż połączenie", "Transfer the call"),
    "transfer.title": ("Przekazanie połączenia", "Transfer the call"),
    "transfer.choose": ("Dokąd przekazać?", "Transfer to"),
    "transfer.kind.agent": ("Dostępni konsultanci", "Available agents"),
    "transfer.kind.queue": ("Kolejki", "Queues"),
    "transfer.kind.skill": ("Umiejętności", "Skills"),
    "transfer.kind.number": ("Druga linia (numery zewnętrzne)", "Second line (outside numbers)"),
    "transfer.none_available": ("nikt nie jest teraz dostępny", "nobody is available now"),
    "transfer.blind": ("Przekaż", "Transfer"),
    "transfer.cancel": ("Anuluj", "Cancel"),
    "transfer.handover": (
        "Notatki i szkic zgłoszenia przejdą razem z połączeniem.",
        "Your notes and the ticket draft go with the call.",
    ),
    "transfer.done": (
        "Połączenie przekazane. Jesteś w obsłudze po rozmowie.",
        "Call transferred. You are in wrap-up.",
    ),
    "transfer.from": ("Przekazane przez: {agent}", "Transferred by: {agent}"),
    "transfer.notes": ("Notatki poprzedniego konsultanta", "Notes of the previous agent"),
    "transfer.refused.not_on_call": (
        "Nie można przekazać: nie prowadzisz już tej rozmowy.",
        "Cannot transfer: you are no longer on this call.",
    ),
    "transfer.refused.agent_unavailable": (
        "Nie można przekazać: konsultant nie jest dostępny ({state}).",
        "Cannot transfer: the agent is not available ({state}).",
    ),
    "transfer.refused.same_agent": (
        "Nie można przekazać połączenia samemu sobie.",
        "You cannot transfer a call to yourself.",
    ),
    "transfer.refused.unknown_target": (
        "Nie można przekazać: nieznany cel przekazania.",
        "Cannot transfer: unknown destination.",
    ),
    "transfer.refused.bad_target": (
        "Nie można przekazać: wybierz, dokąd przekazać połączenie.",
        "Cannot transfer: choose where to transfer the call.",
    ),
    "state.phone_busy": ("telefon zajęty", "phone busy"),
    "consult.open": ("Konsultuj", "Consult"),
    "consult.start": (
        "Rozmówca czeka z muzyką. Rozmawiasz z konsultantem.",
        "The caller is on hold with music. You are talking to the agent.",
    ),
    "consult.complete": ("Połącz z rozmówcą", "Hand the caller over"),
    "consult.cancel": ("Wróć do rozmówcy", "Back to the caller"),
    "consult.cancelled": ("Wróciłeś do rozmówcy.", "You are back with the caller."),
    "transfer.refused.consulting": (
        "Trwa już konsultacja tej rozmowy.",
        "A consult of this call is already going on.",
    ),
    "transfer.refused.not_consulting": (
        "Nie trwa żadna konsultacja tej rozmowy.",
        "No consult of this call is going on.",
    ),
    "transfer.refused.pbx_refused": (
        "Centrala nie rozpoczęła konsultacji; rozmowa trwa dalej.",
        "The PBX did not start the consult; the call goes on.",
    ),
    "transfer.refused.no_pbx": (
        "Konsultacja jest niedostępna (brak połączenia z centralą).",
        "Consulting is not available (no connection to the PBX).",
    ),
}


def pick_language(value: str | None) -> str:
    return value if value in LANGUAGES else "pl"


def translate(language: str, key: str, **params: Any) -> str:
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    text = pair[1] if language == "en" else pair[0]
    return text.format(**params) if params else text


def code_in_words(language: str, kind: str, code: str) -> str:
    """`kind.code` in the reader's language; the code itself when the catalogue has no words."""
    key = f"{kind}.{code}"
    return translate(language, key) if key in CATALOGUE else code


def refusal_text(language: str, refused: StateRefused) -> str:
    """Why the router refused a state change, in people's words; the router's own message
    (English, with codes) is for the log and a tooltip."""
    if refused.busy:
        state = translate(language, f"state.{refused.busy}")
        return translate(language, "state.refused.busy", state=state)
    if refused.why and f"state.refused.{refused.why}" in CATALOGUE:
        return translate(language, f"state.refused.{refused.why}", **refused.params)
    return translate(language, "state.refused.other")


def catalogue(language: str) -> dict[str, str]:
    """Every string in one language (handed to the page's script)."""
    return {key: (en if language == "en" else pl) for key, (pl, en) in CATALOGUE.items()}
