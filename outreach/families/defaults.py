"""The templates every district starts with, in English and Spanish. Admins edit their own
copies (services.templates_install copies these on first use); these stay as shipped.

Written to support, never to warn: no truancy, no fines, no court (merge.PUNITIVE_WORDS). The
Spanish is written for families, not translated word by word.
"""

from .models import MessageKind

# kind -> language -> (subject, body)
DEFAULT_TEMPLATES = {
    MessageKind.WELCOME: {
        "en": (
            "Welcome back to {school}!",
            "Dear family of {student_first_name},\n\n"
            "Welcome to a new school year at {school}! We are so glad {student_first_name} is with us.\n\n"
            "Every school day counts: missing just two days a month adds up to about 10% of the year, and that "
            "makes it harder to keep up. If anything makes getting to school hard — a ride, a health worry, a "
            "change at home — please tell us early. We are here to help.\n\n"
            "{help_line}\n\n"
            "With warm wishes,\n{contact_name}\n{school}",
        ),
        "es": (
            "¡Bienvenidos de nuevo a {school}!",
            "Querida familia de {student_first_name}:\n\n"
            "¡Bienvenidos a un nuevo año escolar en {school}! Nos alegra mucho tener a {student_first_name} con "
            "nosotros.\n\n"
            "Cada día de clase cuenta: faltar solo dos días al mes suma cerca del 10 % del año, y eso hace más "
            "difícil seguir el ritmo. Si algo le complica llegar a la escuela —el transporte, la salud, un cambio "
            "en casa—, avísenos pronto. Estamos para ayudarle.\n\n"
            "{help_line}\n\n"
            "Con cariño,\n{contact_name}\n{school}",
        ),
    },
    MessageKind.RECOGNITION: {
        "en": (
            "{student_first_name} is showing up — thank you!",
            "Dear family of {student_first_name},\n\n"
            "We wanted to share some good news: {student_first_name}'s attendance has been getting better, and "
            "it shows. Thank you for everything you do to get {student_first_name} to school each day.\n\n"
            "Keep it up — we are cheering you on!\n\n{contact_name}\n{school}",
        ),
        "es": (
            "¡{student_first_name} viene a clase! Gracias",
            "Querida familia de {student_first_name}:\n\n"
            "Queremos compartirles una buena noticia: la asistencia de {student_first_name} ha mejorado, y se "
            "nota. Gracias por todo lo que hacen para que {student_first_name} llegue a la escuela cada día.\n\n"
            "¡Sigan así! Estamos muy orgullosos.\n\n{contact_name}\n{school}",
        ),
    },
    MessageKind.EARLY_OUTREACH: {
        "en": (
            "Call script: first absences",
            "Hello, this is {contact_name} from {school}. Is this a good moment to talk about "
            "{student_first_name}?\n\n"
            "We noticed {student_first_name} has missed {days_missed_year} days so far this year, "
            "{days_missed_month} of them this month. We missed {student_first_name}, and we wanted to check in.\n\n"
            "Is everything all right? Is something making it hard to get to school — a ride, a health issue, "
            "something at school or at home?\n\n"
            "[Listen. Note the barrier. Offer one concrete support and agree on a day to check back.]\n\n"
            "Thank you. You can always reach me at {contact_phone}.",
        ),
        "es": (
            "Guion de llamada: primeras ausencias",
            "Hola, le habla {contact_name}, de {school}. ¿Tiene un momento para hablar de {student_first_name}?\n\n"
            "Nos dimos cuenta de que {student_first_name} ha faltado {days_missed_year} días este año, "
            "{days_missed_month} de ellos este mes. Lo extrañamos en clase y queríamos saber cómo están.\n\n"
            "¿Está todo bien? ¿Hay algo que le complique llegar a la escuela: el transporte, la salud, algo en la "
            "escuela o en casa?\n\n"
            "[Escuche. Anote el obstáculo. Ofrezca un apoyo concreto y acuerden un día para volver a hablar.]\n\n"
            "Muchas gracias. Puede llamarme cuando quiera al {contact_phone}.",
        ),
    },
    MessageKind.FOLLOW_UP: {
        "en": (
            "Checking in about {student_first_name}",
            "Dear family of {student_first_name},\n\n"
            "Thank you for talking with us. We wanted to follow up and see how things are going since then.\n\n"
            "{student_first_name} has been at school for {school_days} school days this year and has missed "
            "{days_missed_year}. Is the support we talked about helping? If something has changed, tell us and "
            "we will find another way together.\n\n"
            "{help_line}\n\n{contact_name}\n{school} · {contact_phone}",
        ),
        "es": (
            "¿Cómo va todo con {student_first_name}?",
            "Querida familia de {student_first_name}:\n\n"
            "Gracias por hablar con nosotros. Queríamos saber cómo han ido las cosas desde entonces.\n\n"
            "En este año escolar han pasado {school_days} días de clase y {student_first_name} ha faltado "
            "{days_missed_year}. ¿Le está sirviendo el apoyo del que hablamos? Si algo cambió, cuéntenos y "
            "buscaremos juntos otra manera.\n\n"
            "{help_line}\n\n{contact_name}\n{school} · {contact_phone}",
        ),
    },
    MessageKind.TIER3_INVITATION: {
        "en": (
            "Let's meet about {student_first_name}",
            "Dear family of {student_first_name},\n\n"
            "We would like to invite you to a meeting at {school} to talk about how we can support "
            "{student_first_name}. {student_first_name} has missed {days_missed_year} of {school_days} school days "
            "this year, and we know there can be many reasons. This meeting is about finding what would help — "
            "together, with you.\n\n"
            "Please call {contact_name} at {contact_phone} to pick a time that works for you. You are welcome to "
            "bring someone with you, and we can have an interpreter there.\n\n"
            "We look forward to seeing you,\n{contact_name}\n{school}",
        ),
        "es": (
            "Reunámonos para hablar de {student_first_name}",
            "Querida familia de {student_first_name}:\n\n"
            "Queremos invitarles a una reunión en {school} para hablar de cómo podemos apoyar a "
            "{student_first_name}. Este año {student_first_name} ha faltado {days_missed_year} de {school_days} "
            "días de clase, y sabemos que puede haber muchas razones. La reunión es para encontrar, junto con "
            "ustedes, lo que más le ayudaría.\n\n"
            "Llame a {contact_name} al {contact_phone} para escoger un horario que le convenga. Puede venir "
            "acompañado, y podemos tener un intérprete presente.\n\n"
            "Será un gusto verles,\n{contact_name}\n{school}",
        ),
    },
    MessageKind.NUDGE_LETTER: {
        "en": (
            "{student_first_name}'s school days this year",
            "Dear family of {student_first_name},\n\n"
            "Many families are surprised to learn how quickly missed days add up, so we want to share "
            "{student_first_name}'s numbers with you.\n\n"
            "So far this year, {student_first_name} has missed {days_missed_year} of {school_days} school days "
            "({days_missed_month} this month).\n\n"
            "Every day in class helps {student_first_name} learn, keep up and stay close to friends and teachers. "
            "We are here to help with whatever gets in the way.\n\n"
            "{help_line}\n\n"
            "Thank you for all you do,\n{contact_name}\n{school}",
        ),
        "es": (
            "Los días de clase de {student_first_name} este año",
            "Querida familia de {student_first_name}:\n\n"
            "A muchas familias les sorprende lo rápido que se acumulan los días de ausencia, por eso queremos "
            "compartir con ustedes los números de {student_first_name}.\n\n"
            "En lo que va del año, {student_first_name} ha faltado {days_missed_year} de {school_days} días de "
            "clase ({days_missed_month} este mes).\n\n"
            "Cada día en clase ayuda a {student_first_name} a aprender, a no quedarse atrás y a estar cerca de sus "
            "amigos y maestros. Estamos para ayudarles con lo que les dificulte venir.\n\n"
            "{help_line}\n\n"
            "Gracias por todo lo que hacen,\n{contact_name}\n{school}",
        ),
    },
    MessageKind.ABSENCE_NOTICE: {
        "en": (
            "{student_first_name} was absent today",
            "Hello from {school}. {student_first_name} was marked absent today, {absence_date}. We hope everything "
            "is OK. If this is a mistake, or if we can help, please call {contact_name} at {contact_phone}.",
        ),
        "es": (
            "{student_first_name} faltó hoy a clase",
            "Un saludo de {school}. Hoy, {absence_date}, {student_first_name} aparece como ausente. Esperamos que "
            "todo esté bien. Si es un error o si podemos ayudarle, llame a {contact_name} al {contact_phone}.",
        ),
    },
    # The "how to get help" line: {help_line} in the others. No subject.
    MessageKind.HELP_LINE: {
        "en": (
            "",
            "Need help getting to school? Call {contact_name} at {contact_phone}: rides, health, housing or "
            "anything else — we can help.",
        ),
        "es": (
            "",
            "¿Necesita ayuda para que su hijo o hija llegue a la escuela? Llame a {contact_name} al "
            "{contact_phone}: transporte, salud, vivienda o lo que sea. Podemos ayudarle.",
        ),
    },
}
