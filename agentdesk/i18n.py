"""The desk's words in Polish (default) and English; the language comes from a cookie."""

from __future__ import annotations

from typing import Any

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
    "outcome.callback_needed": ("potrzebny oddzwon", "callback needed"),
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


def catalogue(language: str) -> dict[str, str]:
    """Every string in one language (handed to the page's script)."""
    return {key: (en if language == "en" else pl) for key, (pl, en) in CATALOGUE.items()}
