/**
 * The members of the ASCOM device interfaces the Alpaca server can be asked for, with the HTTP verbs
 * each takes (g: GET, p: PUT), as listed in the ASCOM Alpaca Device API definition. A member in this
 * list that a device does not implement answers NotImplemented (0x400) in a 200 answer; a name that
 * is not in it, or a verb it does not take, is a request the server cannot understand (HTTP 400).
 */

export type AlpacaDeviceType = 'camera' | 'filterwheel' | 'focuser' | 'telescope' | 'safetymonitor';

const COMMON =
  'action:p commandblind:p commandbool:p commandstring:p connect:p connected:gp connecting:g description:g devicestate:g disconnect:p driverinfo:g driverversion:g interfaceversion:g name:g supportedactions:g';

const MEMBERS: Record<AlpacaDeviceType, string> = {
  camera:
    'bayeroffsetx:g bayeroffsety:g binx:gp biny:gp camerastate:g cameraxsize:g cameraysize:g canabortexposure:g canasymmetricbin:g canfastreadout:g cangetcoolerpower:g canpulseguide:g cansetccdtemperature:g canstopexposure:g ccdtemperature:g cooleron:gp coolerpower:g electronsperadu:g exposuremax:g exposuremin:g exposureresolution:g fastreadout:gp fullwellcapacity:g gain:gp gainmax:g gainmin:g gains:g hasshutter:g heatsinktemperature:g imagearray:g imagearrayvariant:g imageready:g ispulseguiding:g lastexposureduration:g lastexposurestarttime:g maxadu:g maxbinx:g maxbiny:g numx:gp numy:gp offset:gp offsetmax:g offsetmin:g offsets:g percentcompleted:g pixelsizex:g pixelsizey:g readoutmode:gp readoutmodes:g sensorname:g sensortype:g setccdtemperature:gp startx:gp starty:gp subexposureduration:gp abortexposure:p pulseguide:p startexposure:p stopexposure:p',
  filterwheel: 'focusoffsets:g names:g position:gp',
  safetymonitor: 'issafe:g',
  focuser: 'absolute:g ismoving:g maxincrement:g maxstep:g position:g stepsize:g tempcomp:gp tempcompavailable:g temperature:g halt:p move:p',
  telescope:
    'alignmentmode:g altitude:g aperturearea:g aperturediameter:g athome:g atpark:g azimuth:g canfindhome:g canpark:g canpulseguide:g cansetdeclinationrate:g cansetguiderates:g cansetpark:g cansetpierside:g cansetrightascensionrate:g cansettracking:g canslew:g canslewaltaz:g canslewaltazasync:g canslewasync:g cansync:g cansyncaltaz:g canunpark:g declination:g declinationrate:gp doesrefraction:gp equatorialsystem:g focallength:g guideratedeclination:gp guideraterightascension:gp ispulseguiding:g rightascension:g rightascensionrate:gp sideofpier:gp siderealtime:g siteelevation:gp sitelatitude:gp sitelongitude:gp slewing:g slewsettletime:gp targetdeclination:gp targetrightascension:gp tracking:gp trackingrate:gp trackingrates:g utcdate:gp abortslew:p axisrates:g canmoveaxis:g destinationsideofpier:g findhome:p moveaxis:p park:p pulseguide:p setpark:p slewtoaltaz:p slewtoaltazasync:p slewtocoordinates:p slewtocoordinatesasync:p slewtotarget:p slewtotargetasync:p synctoaltaz:p synctocoordinates:p synctotarget:p unpark:p',
};

/** The ASCOM device types of the Alpaca API (any of them may appear in a path). */
export const ALPACA_DEVICE_TYPES = ['camera', 'covercalibrator', 'dome', 'filterwheel', 'focuser', 'observingconditions', 'rotator', 'safetymonitor', 'switch', 'telescope'] as const;

function table(spec: string): Map<string, string> {
  return new Map(spec.split(' ').map((e) => e.split(':') as [string, string]));
}
const TABLES = new Map(Object.entries(MEMBERS).map(([t, spec]) => [t, table(`${COMMON} ${spec}`)]));

/** The verbs ('GET', 'PUT') `member` of a `type` device takes; empty when it is no member of it. */
export function memberVerbs(type: string, member: string): ('GET' | 'PUT')[] {
  const v = TABLES.get(type)?.get(member) ?? '';
  return [...(v.includes('g') ? (['GET'] as const) : []), ...(v.includes('p') ? (['PUT'] as const) : [])];
}
